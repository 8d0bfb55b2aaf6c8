// The NEON GEMM on an x86-64 machine: cross-compiled with aarch64-linux-gnu-g++ and run under
// qemu-aarch64 (gemmCheck.cpp: float64 reference, every layout, odd shapes around the 8 x 12 tile,
// 1 vs 2 threads). On arm64 the addon itself runs NEON and gemm.test.ts covers it; elsewhere this
// skips, with the reason printed, when either tool is missing (Debian: g++-aarch64-linux-gnu qemu-user).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { packageRoot } from '../../lib/native.js';

const compiler = 'aarch64-linux-gnu-g++';
const emulator = 'qemu-aarch64';

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)));
}

const skipReason =
  process.arch === 'arm64'
    ? 'this machine is arm64: gemm.test.ts runs the NEON kernel through the addon'
    : !onPath(compiler) || !onPath(emulator)
      ? `${compiler} or ${emulator} not on PATH`
      : undefined;
if (skipReason) console.log(`NEON GEMM check skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('NEON GEMM under qemu-aarch64', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-neon-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('matches the float64 reference within 1e-5 and does not depend on the thread count', () => {
    const binary = join(dir, 'gemm-check');
    const sources = ['test/matmul/gemmCheck.cpp', 'cpp/matmul/gemm_neon.cpp', 'cpp/matmul/gemm.cpp', 'cpp/core/thread_pool.cpp'];
    // The addon's flags: -O3 and no contraction outside the explicit FMAs.
    const build = spawnSync(compiler, ['-std=c++17', '-O3', '-ffp-contract=off', '-static', '-Icpp', ...sources, '-o', binary, '-lpthread'], {
      cwd: packageRoot,
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
    const run = spawnSync(emulator, [binary], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout).toMatch(/gemm check: worst error .* of the scale, 0 failures/);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });
});
