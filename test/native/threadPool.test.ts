// The native pool is process-wide: several JS threads (worker_threads here, libuv threads later)
// may submit at once, and the process must still exit promptly after using it.
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { loadNative, nativeBinaryPath } from '../../lib/native.js';

const native = loadNative();
const binary = nativeBinaryPath()!;

function input(n: number): Float32Array {
  const bits = new Uint32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bits[i] = x >>> 0;
  }
  return new Float32Array(bits.buffer);
}

describe('thread pool', () => {
  test('worker threads each load the addon and convert concurrently with the same results', async () => {
    const n = 1_500_007;
    const src = input(n);
    const expected = new Uint16Array(n);
    native.fp32ToFp16(src, expected, 1);
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const a = require(workerData.binary);
      const out = new Uint16Array(workerData.src.length);
      for (let round = 0; round < 4; round++) a.fp32ToFp16(workerData.src, out, 2 + round);
      parentPort.postMessage({ out, threads: a.threadCount(), isa: a.isa() });`;
    const runs = Array.from({ length: 3 }, () =>
      new Promise<{ out: Uint16Array; threads: number; isa: string }>((resolve, reject) => {
        const worker = new Worker(script, { eval: true, workerData: { binary, src } });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
    );
    // The main thread submits too while the workers run.
    const mine = new Uint16Array(n);
    for (let round = 0; round < 4; round++) native.fp32ToFp16(src, mine, 2);
    const results = await Promise.all(runs);
    expect(Buffer.from(mine.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    for (const r of results) {
      expect(r.threads).toBe(native.threadCount());
      expect(Buffer.from(r.out.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });

  test('GGUF_FORGE_THREADS sets the pool size, and a process that used the pool exits promptly', () => {
    const script = `
      const a = require(${JSON.stringify(binary)});
      const src = new Float32Array(1 << 21).fill(1.5), dst = new Uint16Array(1 << 21);
      a.fp32ToFp16(src, dst, 8);
      process.stdout.write(String(a.threadCount()) + ' ' + dst[12345].toString(16));`;
    const result = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, GGUF_FORGE_THREADS: '3' }, encoding: 'utf8', timeout: 20_000 });
    expect(result.error).toBeUndefined();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('3 3e00');
  });
});
