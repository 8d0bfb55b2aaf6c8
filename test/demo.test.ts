// The README's `npm run demo` works: it needs dist/ (npm install builds it through `prepare`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../lib/native.js';
import { repoRoot } from './sharedData.js';

const built = existsSync(join(repoRoot, 'dist', 'index.js'));
if (!built) console.warn('skipping the demo test: dist/ is missing (run npm run build:ts)');

describe.skipIf(!built || !nativeAvailable())('npm run demo', () => {
  it('builds a small model, creates it from a Modelfile with -q Q4_K_M in a temporary store, lists and shows it', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/wrote .*tiny-llama-f16\.gguf: 21 tensors, 1475840 parameters, F16/);
    expect(result.stdout).toMatch(
      /\$ gguf-forge create demo -f \S+ -q Q4_K_M --models \S+\nparsing GGUF\nquantizing F16 model to Q4_K_M\nverifying conversion\n(creating new layer sha256:[0-9a-f]{64}\n){4}writing manifest\nsuccess\n/,
    );
    expect(result.stdout).toMatch(/NAME {11}ID {14}SIZE {6}MODIFIED\ndemo:latest {4}[0-9a-f]{12} {4}916 KB {4}/);
    expect(result.stdout).toMatch(/ {4}architecture {8}llama\n {4}parameters {10}1\.48M\n {4}context length {6}2048\n {4}embedding length {4}256\n {4}quantization {8}Q4_K_M\n/);
    expect(result.stdout).toMatch(/ {4}stop {11}"<\|end\|>"\n {4}temperature {4}0\.7\n/);
    expect(result.stdout).toMatch(/ok: 1 manifest\(s\), 5 blob\(s\)/);
  });
});
