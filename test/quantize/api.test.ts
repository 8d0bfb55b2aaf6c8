// The TypeScript surface of the quantizers: type table, argument checks before native work,
// the promise form off the JS thread, and cancellation through an AbortSignal.
import { describe, expect, test } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { dequantize, quantize, quantizeSync } from '../../lib/quantize/quantize.js';
import { QUANT_TYPE_NAMES, typeInfo } from '../../lib/quantize/typeInfo.js';
import { DATA_KINDS, Rng } from './quantData.js';

/** Runs an async job on the scalar reference kernels (slow enough to observe), then restores the ISA. */
async function withScalarKernels<T>(body: () => Promise<T>): Promise<T> {
  const native = loadNative();
  const previous = native.isa();
  native.setIsa('scalar');
  try {
    return await body();
  } finally {
    native.setIsa(previous);
  }
}

const native = loadNative();

function sample(rows: number, cols: number, seed = 1): Float32Array {
  const x = new Float32Array(rows * cols);
  DATA_KINDS[0]!.fill(new Rng(seed), x);
  return x;
}

describe('typeInfo', () => {
  test('gives block size, bytes and bits per weight by name (any case) or ggml id', () => {
    expect(typeInfo('Q4_K')).toEqual({ name: 'Q4_K', id: 12, blockSize: 256, typeSize: 144, bitsPerWeight: 4.5 });
    expect(typeInfo('q4_k')).toBe(typeInfo(12));
    expect(typeInfo('iq4_xs')).toMatchObject({ id: 23, blockSize: 256, typeSize: 136, bitsPerWeight: 4.25 });
    expect(typeInfo('Q8_0')).toMatchObject({ blockSize: 32, typeSize: 34, bitsPerWeight: 8.5 });
    expect(typeInfo('bf16')).toMatchObject({ id: 30, blockSize: 1, typeSize: 2, bitsPerWeight: 16 });
    expect(QUANT_TYPE_NAMES).toHaveLength(15);
  });

  test('rejects unknown and unsupported types', () => {
    expect(() => typeInfo('Q7_K')).toThrow(RangeError);
    expect(() => typeInfo('IQ2_XXS')).toThrow(/Expected one of F32, F16, Q4_0.* for type but received 'IQ2_XXS' of type string/);
    expect(() => typeInfo(16)).toThrow(RangeError);
    expect(() => typeInfo(4)).toThrow(RangeError); // removed Q4_2
    expect(() => typeInfo(1.5)).toThrow(RangeError);
    expect(() => typeInfo({} as unknown as string)).toThrow(TypeError);
  });
});

describe('argument checks happen before native work', () => {
  const x = sample(2, 256);
  test.each<[string, () => unknown, ErrorConstructor, RegExp]>([
    ['unknown type', () => quantizeSync('Q9_9', x, { rows: 2, cols: 256 }), RangeError, /for type but received 'Q9_9'/],
    ['cols not a multiple of the block', () => quantizeSync('Q4_K', sample(2, 96), { rows: 2, cols: 96 }), RangeError, /Expected a multiple of 256 \(the Q4_K block size\) for cols but received 96 of type number/],
    ['source too short', () => quantizeSync('Q8_0', x, { rows: 3, cols: 256 }), RangeError, /for source but received Float32Array\(512\)/],
    ['source too long', () => quantizeSync('Q8_0', x, { rows: 1, cols: 256 }), RangeError, /for source/],
    ['imatrix length', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256, imatrix: new Float32Array(255) }), RangeError, /256 weights .* for imatrix/],
    ['imatrix type', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256, imatrix: [1] as unknown as Float32Array }), TypeError, /for imatrix/],
    ['negative rows', () => quantizeSync('Q4_K', x, { rows: -2, cols: 256 }), RangeError, /for rows but received -2/],
    ['fractional cols', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256.5 }), RangeError, /for cols/],
    ['missing cols', () => quantizeSync('Q4_K', x, { rows: 2 } as never), TypeError, /for cols but received undefined/],
    ['threads', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256, threads: -1 }), RangeError, /for threads/],
    ['source type', () => quantizeSync('Q4_K', [1, 2] as unknown as Float32Array, { rows: 1, cols: 256 }), TypeError, /for source/],
    ['Uint16Array without sourceType', () => quantizeSync('Q4_K', new Uint16Array(512), { rows: 2, cols: 256 }), TypeError, /for sourceType/],
    ['Float32Array with sourceType F16', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256, sourceType: 'F16' }), TypeError, /for sourceType/],
    ['sourceType not a float type', () => quantizeSync('Q4_K', x, { rows: 2, cols: 256, sourceType: 'Q8_0' as never }), RangeError, /for sourceType/],
    ['dequantize byte length', () => dequantize('Q4_K', new Uint8Array(143), 256), RangeError, /Expected 144 bytes .* for bytes/],
    ['dequantize count', () => dequantize('Q4_0', new Uint8Array(18), 31), RangeError, /for count/],
    ['dequantize bytes type', () => dequantize('Q4_0', new Float32Array(8) as unknown as Uint8Array, 32), TypeError, /for bytes/],
  ])('%s', (_name, call, ErrorType, message) => {
    expect(call).toThrow(ErrorType);
    expect(call).toThrow(message);
  });

  test('quantize() rejects (never throws) with the same errors', async () => {
    await expect(quantize('Q4_K', x, { rows: 2, cols: 100 })).rejects.toThrow(RangeError);
    await expect(quantize('Q4_K', x, { rows: 2, cols: 256, signal: {} as AbortSignal })).rejects.toThrow(TypeError);
  });

  test('the addon checks lengths and overlap again (memory-safety boundary)', () => {
    const dst = new Uint8Array(2 * 144);
    expect(() => native.quantizeSync(12, x, 0, dst.subarray(1), 2, 256, null, 1)).toThrow(RangeError);
    expect(() => native.quantizeSync(12, x.subarray(1), 0, dst, 2, 256, null, 1)).toThrow(RangeError);
    expect(() => native.quantizeSync(12, x, 0, dst, 2, 96, null, 1)).toThrow(RangeError);
    expect(() => native.quantizeSync(12, x, 0, dst, 2, 256, new Float32Array(3), 1)).toThrow(RangeError);
    expect(() => native.quantizeSync(16, x, 0, dst, 2, 256, null, 1)).toThrow(RangeError);
    expect(() => native.quantizeSync(12, x, 0, dst, 2 ** 40, 2 ** 20, null, 1)).toThrow(RangeError);
    const shared = new Uint8Array(x.buffer);
    expect(() => native.quantizeSync(12, x, 0, shared, 1, 256, null, 1)).toThrow(/overlap/);
    expect(() => native.dequantize(12, new Uint8Array(143), new Float32Array(256), 256, 1)).toThrow(RangeError);
    expect(() => native.dequantize(12, new Uint8Array(144), new Float32Array(255), 256, 1)).toThrow(RangeError);
  });
});

describe('quantize() runs off the JS thread', () => {
  test('resolves with the bytes quantizeSync gives, for any thread count', async () => {
    const rows = 16;
    const cols = 1024;
    const x = sample(rows, cols, 7);
    const imatrix = new Float32Array(cols).fill(1).map((v, i) => (i % 5 === 0 ? 0 : v + i / cols));
    for (const type of ['Q4_0', 'Q6_K', 'IQ4_NL', 'F16'] as const) {
      const sync = quantizeSync(type, x, { rows, cols, imatrix, threads: 1 });
      expect(Buffer.from(await quantize(type, x, { rows, cols, imatrix })).equals(sync), type).toBe(true);
      expect(Buffer.from(await quantize(type, x, { rows, cols, imatrix, threads: 2 })).equals(sync), type).toBe(true);
    }
  });

  test('the JS thread keeps running while a large tensor is quantized', async () => {
    const rows = 256;
    const cols = 4096;
    const x = sample(rows, cols, 9);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    // The scalar reference (about 20 MB/s): the SIMD kernels finish this before a timer can tick.
    const bytes = await withScalarKernels(() => quantize('IQ4_XS', x, { rows, cols, threads: 1 }));
    clearInterval(timer);
    expect(bytes.length).toBe(rows * (cols / 256) * 136);
    expect(ticks).toBeGreaterThan(2);
  });

  test('an already aborted signal rejects with its reason before any work', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(quantize('Q4_K', sample(1, 256), { rows: 1, cols: 256, signal: controller.signal })).rejects.toThrow('stop');
  });

  test('aborting stops a running job within a row chunk and rejects with AbortError', async () => {
    const rows = 2048;
    const cols = 4096; // about 2 s of IQ4_XS on one thread with the scalar reference
    const x = new Float32Array(rows * cols).map((_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const controller = new AbortController();
    const job = withScalarKernels(() => quantize('IQ4_XS', x, { rows, cols, threads: 1, signal: controller.signal }));
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 20);
    await expect(job).rejects.toMatchObject({ name: 'AbortError' });
    expect(performance.now() - abortedAt).toBeLessThan(250);
    // the pool is free again and the results are unaffected
    const small = sample(2, 256, 3);
    expect(Buffer.from(await quantize('Q4_K', small, { rows: 2, cols: 256 })).equals(quantizeSync('Q4_K', small, { rows: 2, cols: 256 }))).toBe(true);
  });

  test('zero rows give an empty tensor', async () => {
    expect((await quantize('Q4_K', new Float32Array(0), { rows: 0, cols: 256 })).length).toBe(0);
    expect(quantizeSync('Q8_0', new Float32Array(0), { rows: 0, cols: 32 }).length).toBe(0);
    expect(dequantize('Q8_0', new Uint8Array(0), 0).length).toBe(0);
  });

  test('dequantize(quantize(x)) is close to x', () => {
    const x = sample(4, 512, 5);
    const back = dequantize('Q8_0', quantizeSync('q8_0', x, { rows: 4, cols: 512 }), x.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(back[i]! - x[i]!));
    expect(worst).toBeLessThan(0.05);
  });
});

describe('quantize() into a caller-provided output buffer', () => {
  test('writes the same bytes into the buffer it is given and resolves with it', async () => {
    const x = sample(4, 256, 3);
    const expected = await quantize('Q4_K', x, { rows: 4, cols: 256 });
    const output = new Uint8Array(expected.length).fill(0xee);
    const result = await quantize('Q4_K', x, { rows: 4, cols: 256, output });
    expect(result).toBe(output);
    expect(Buffer.from(output).equals(Buffer.from(expected))).toBe(true);
  });

  test('a buffer of the wrong size, type or overlapping the source is refused', () => {
    const x = sample(1, 256, 3);
    expect(() => quantizeSync('Q8_0', x, { rows: 1, cols: 256, output: new Uint8Array(10) })).toThrow(RangeError);
    expect(() => quantizeSync('Q8_0', x, { rows: 1, cols: 256, output: new Float32Array(68) as unknown as Uint8Array })).toThrow(TypeError);
    const shared = new Uint8Array(256 * 4 + 272);
    const source = new Uint8Array(shared.buffer, 0, 256 * 4);
    expect(() => quantizeSync('Q8_0', source, { rows: 1, cols: 256, output: new Uint8Array(shared.buffer, 512, 272) })).toThrow(/overlap/);
  });
});
