// The NEON quantizers, byte for byte against the scalar references (neonCheck.cpp: the hostile data
// kinds of quantData.ts plus NaN/inf blocks, odd row lengths, every block count around the vector
// widths, rows split over calls, the imatrix pass-through). On x86-64 it is cross-compiled with
// aarch64-linux-gnu-g++ and run under qemu-aarch64; on arm64 it is built and run natively. Skips,
// with the reason printed, when the tools are missing (Debian: g++-aarch64-linux-gnu qemu-user).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { packageRoot } from '../../lib/native.js';

const native = process.arch === 'arm64';
const compiler = native ? 'g++' : 'aarch64-linux-gnu-g++';
const emulator = native ? undefined : 'qemu-aarch64';

function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, name)));
}

const skipReason =
  process.platform !== 'linux'
    ? `the check is built as a Linux executable (this is ${process.platform})`
    : !native && process.arch !== 'x64'
      ? `no cross toolchain set up for ${process.arch}`
      : !onPath(compiler)
        ? `${compiler} not on PATH`
        : emulator !== undefined && !onPath(emulator)
          ? `${emulator} not on PATH`
          : undefined;
if (skipReason) console.log(`NEON quantizer check skipped: ${skipReason}`);

// The NEON units under test, the dispatch that registers them (isa.cpp, with what it links
// against), and the references.
const SOURCES = [
  'test/quantize/neonCheck.cpp',
  'cpp/quant/legacy_neon.cpp',
  'cpp/quant/iq4_neon.cpp',
  'cpp/quant/kquants_neon.cpp',
  'cpp/core/isa.cpp',
  'cpp/core/cpu_features.cpp',
  'cpp/core/fp16.cpp',
  'cpp/core/fp16_neon.cpp',
  'cpp/core/thread_pool.cpp',
  'cpp/matmul/gemm_ref.cpp',
  'cpp/matmul/gemm_neon.cpp',
  'cpp/quant/legacy_ref.cpp',
  'cpp/quant/kquants_ref.cpp',
  'cpp/quant/iq4_ref.cpp',
  'cpp/quant/scale_search.cpp',
  'cpp/quant/quant_ref.cpp',
];

describe.skipIf(skipReason !== undefined)(`NEON quantizers (${emulator ?? 'native'})`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-neon-quant-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('write the scalar reference bytes for every data kind, row length and block count', () => {
    const binary = join(dir, 'neon-quant-check');
    // The addon's flags on arm64: -O3, no FMA contraction (bit-exactness depends on it).
    const build = spawnSync(compiler, ['-std=c++17', '-O3', '-ffp-contract=off', '-static', '-DGGUF_FORGE_HAVE_NEON=1', '-Icpp', ...SOURCES, '-o', binary, '-lpthread'], {
      cwd: packageRoot,
      encoding: 'utf8',
    });
    expect(build.status, build.stderr).toBe(0);
    const run = emulator ? spawnSync(emulator, [binary], { encoding: 'utf8', timeout: 120_000 }) : spawnSync(binary, [], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout, run.stderr).toMatch(/neon quantize check: \d+ types, \d+ cases, \d+ blocks, 0 failures/);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  }, 300_000);
});
