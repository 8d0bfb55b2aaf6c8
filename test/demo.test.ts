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
  it('writes a small F16 model, maps it back identically and inspects it', () => {
    const result = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'demo.mjs')], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/wrote .*tiny-llama-f16\.gguf: 21 tensors, 110912 parameters, file type F16/);
    expect(result.stdout).toMatch(/mapped back \d+ bytes of tensor data, identical/);
    expect(result.stdout).toMatch(/blk\.1\.ffn_down\.weight\s+F16\s+\[192, 64\]/);
  });
});
