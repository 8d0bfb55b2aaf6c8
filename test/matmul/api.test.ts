// The TypeScript surface of the GEMM: argument checks (TypeError/RangeError with a code) before
// any native work, the defaults for c and beta, the promise form, and cancellation.
import { describe, expect, test } from 'vitest';
import { gemm, gemmSync } from '../../lib/matmul/index.js';
import { loadNative } from '../../lib/native.js';
import { randomMatrix } from './gemmReference.js';

const native = loadNative();

describe('argument checks happen before native work', () => {
  const a = new Float32Array(6); // 2x3
  const b = new Float32Array(12); // 3x4
  const c = new Float32Array(8); // 2x4
  const shape = { m: 2, n: 4, k: 3 };
  test.each<[string, () => unknown, ErrorConstructor, string, RegExp]>([
    ['a not a Float32Array', () => gemmSync([0, 0, 0, 0, 0, 0] as never, b, shape), TypeError, 'ERR_INVALID_ARG_TYPE', /Expected a Float32Array for a but received 0,0,0,0,0,0 of type object/],
    ['a Float64Array b', () => gemmSync(a, new Float64Array(12) as never, shape), TypeError, 'ERR_INVALID_ARG_TYPE', /for b but received Float64Array\(12\)/],
    ['a too short', () => gemmSync(a.subarray(1), b, shape), RangeError, 'ERR_OUT_OF_RANGE', /Expected a Float32Array of 6 elements \(m×k = 2×3\) for a but received Float32Array\(5\)/],
    ['b too long', () => gemmSync(a, new Float32Array(13), shape), RangeError, 'ERR_OUT_OF_RANGE', /12 elements \(k×n = 3×4\) for b/],
    ['b sized for the other layout', () => gemmSync(a, new Float32Array(12), { m: 2, n: 5, k: 3, transB: true }), RangeError, 'ERR_OUT_OF_RANGE', /15 elements \(n×k = 5×3, transB\) for b/],
    ['c of the wrong size', () => gemmSync(a, b, { ...shape, c: new Float32Array(9) }), RangeError, 'ERR_OUT_OF_RANGE', /8 elements \(m×n = 2×4\) for c/],
    ['c not a Float32Array', () => gemmSync(a, b, { ...shape, c: new Uint32Array(8) as never }), TypeError, 'ERR_INVALID_ARG_TYPE', /for c but received Uint32Array\(8\)/],
    ['negative m', () => gemmSync(a, b, { ...shape, m: -2 }), RangeError, 'ERR_OUT_OF_RANGE', /Expected an integer >= 0 for m but received -2 of type number/],
    ['fractional k', () => gemmSync(a, b, { ...shape, k: 2.5 }), RangeError, 'ERR_OUT_OF_RANGE', /for k but received 2.5/],
    ['missing n', () => gemmSync(a, b, { m: 2, k: 3 } as never), TypeError, 'ERR_INVALID_ARG_TYPE', /for n but received undefined/],
    ['n as a string', () => gemmSync(a, b, { ...shape, n: '4' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', /for n but received '4' of type string/],
    ['no options', () => gemmSync(a, b, undefined as never), TypeError, 'ERR_INVALID_ARG_TYPE', /for options/],
    ['alpha NaN', () => gemmSync(a, b, { ...shape, alpha: NaN }), RangeError, 'ERR_OUT_OF_RANGE', /Expected a finite number for alpha but received NaN/],
    ['beta infinite', () => gemmSync(a, b, { ...shape, c, beta: Infinity }), RangeError, 'ERR_OUT_OF_RANGE', /for beta/],
    ['beta as a string', () => gemmSync(a, b, { ...shape, c, beta: '1' as never }), TypeError, 'ERR_INVALID_ARG_TYPE', /for beta/],
    ['beta without c', () => gemmSync(a, b, { ...shape, beta: 1 }), RangeError, 'ERR_OUT_OF_RANGE', /Expected 0 or no beta when no c is given for beta/],
    ['transA not a boolean', () => gemmSync(a, b, { ...shape, transA: 1 as never }), TypeError, 'ERR_INVALID_ARG_TYPE', /Expected a boolean for transA/],
    ['threads negative', () => gemmSync(a, b, { ...shape, threads: -1 }), RangeError, 'ERR_OUT_OF_RANGE', /for threads/],
    ['c overlapping a', () => {
      const shared = new Float32Array(14);
      return gemmSync(shared.subarray(0, 6), b, { ...shape, c: shared.subarray(5, 13) });
    }, RangeError, 'ERR_INVALID_ARG_VALUE', /shares no memory with a or b for c/],
    ['an m×n too large to allocate', () => gemmSync(new Float32Array(0), new Float32Array(0), { m: 2 ** 26, n: 2 ** 26, k: 0 }), RangeError, 'ERR_OUT_OF_RANGE', /for m×n/],
  ])('%s', (_name, call, ErrorType, code, message) => {
    expect(call).toThrow(ErrorType);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code }));
  });

  test('a and b may be the same array (both are only read)', () => {
    const x = Float32Array.from([1, 2, 3, 4]);
    expect([...gemmSync(x, x, { m: 2, n: 2, k: 2 })]).toEqual([7, 10, 15, 22]);
    expect([...gemmSync(x, x, { m: 2, n: 2, k: 2, transA: true })]).toEqual([10, 14, 14, 20]);
  });

  test('c adjacent to a in one buffer is fine', () => {
    const shared = new Float32Array(10);
    shared.set([1, 2, 3, 4]);
    const out = gemmSync(shared.subarray(0, 4), Float32Array.from([1, 0, 0, 1]), { m: 2, n: 2, k: 2, c: shared.subarray(4, 8), beta: 0 });
    expect([...shared]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 0, 0]);
    expect(out.byteOffset).toBe(16);
  });

  test('gemm() rejects (never throws) with the same errors', async () => {
    const a = new Float32Array(6);
    const b = new Float32Array(12);
    await expect(gemm(a, b, { m: 2, n: 4, k: 4 })).rejects.toThrow(RangeError);
    await expect(gemm(a, b, { m: 2, n: 4, k: 3, signal: {} as AbortSignal })).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test('the addon checks lengths and overlap again (memory-safety boundary)', () => {
    const a = new Float32Array(6);
    const b = new Float32Array(12);
    const c = new Float32Array(8);
    expect(() => native.gemmSync(a.subarray(1), b, c, 2, 4, 3, false, false, 1, 0, 1)).toThrow(RangeError);
    expect(() => native.gemmSync(a, b.subarray(1), c, 2, 4, 3, false, false, 1, 0, 1)).toThrow(RangeError);
    expect(() => native.gemmSync(a, b, c.subarray(1), 2, 4, 3, false, false, 1, 0, 1)).toThrow(RangeError);
    expect(() => native.gemmSync(a, b, c, 2, 4, -3, false, false, 1, 0, 1)).toThrow(RangeError);
    expect(() => native.gemmSync(a, b, c, 2 ** 40, 2 ** 20, 1, false, false, 1, 0, 1)).toThrow(RangeError);
    expect(() => native.gemmSync(a, b, new Uint8Array(32) as never, 2, 4, 3, false, false, 1, 0, 1)).toThrow(TypeError);
    expect(() => native.gemmSync(a, b, c, 2, 4, 3, 0 as never, false, 1, 0, 1)).toThrow(TypeError);
    const shared = new Float32Array(14);
    expect(() => native.gemmSync(shared.subarray(0, 6), b, shared.subarray(6, 14), 2, 4, 3, false, false, 1, 0, 1)).not.toThrow();
    expect(() => native.gemmSync(shared.subarray(0, 6), b, shared.subarray(5, 13), 2, 4, 3, false, false, 1, 0, 1)).toThrow(/overlap/);
    expect(() => native.gemmAsync(a, b, c, 2, 4, 3, false, false, 1, 0, 1, undefined as never)).toThrow(/callback/);
  });
});

describe('defaults and the promise form', () => {
  const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2x3
  const b = Float32Array.from([1, 0, 0, 1, 1, 1]); // 3x2
  test('without c: a new array holding the product', () => {
    const c = gemmSync(a, b, { m: 2, n: 2, k: 3 });
    expect(c).toBeInstanceOf(Float32Array);
    expect([...c]).toEqual([4, 5, 10, 11]);
  });

  test('with c: updated in place with beta 1 by default (the LoRA merge: W += s·B·A)', async () => {
    const w = Float32Array.from([1, 1, 1, 1]);
    const out = await gemm(a, b, { m: 2, n: 2, k: 3, c: w, alpha: 0.5 });
    expect(out).toBe(w);
    expect([...w]).toEqual([3, 3.5, 6, 6.5]);
    gemmSync(a, b, { m: 2, n: 2, k: 3, c: w, alpha: 1, beta: -1 });
    expect([...w]).toEqual([1, 1.5, 4, 4.5]);
  });

  test('transposed layouts', () => {
    const at = Float32Array.from([1, 4, 2, 5, 3, 6]); // a stored 3x2
    const bt = Float32Array.from([1, 0, 1, 0, 1, 1]); // b stored 2x3
    const expected = [4, 5, 10, 11];
    expect([...gemmSync(at, b, { m: 2, n: 2, k: 3, transA: true })]).toEqual(expected);
    expect([...gemmSync(a, bt, { m: 2, n: 2, k: 3, transB: true })]).toEqual(expected);
    expect([...gemmSync(at, bt, { m: 2, n: 2, k: 3, transA: true, transB: true })]).toEqual(expected);
  });

  test('an already aborted signal rejects with its reason and leaves c untouched', async () => {
    const c = Float32Array.from([7, 7, 7, 7]);
    const reason = new Error('stop');
    await expect(gemm(a, b, { m: 2, n: 2, k: 3, c, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect([...c]).toEqual([7, 7, 7, 7]);
  });

  test('aborting a running product rejects with the reason, well before it could have finished', async () => {
    // About 4.3 GFLOP: a second or more on the scalar path, tens of milliseconds on SIMD.
    const [m, n, k] = [2048, 2048, 512];
    const big = randomMatrix(m * k, 1);
    const other = randomMatrix(k * n, 2);
    const controller = new AbortController();
    const started = performance.now();
    const pending = gemm(big, other, { m, n, k, signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    const aborted = performance.now() - started;
    const full = performance.now();
    await gemm(big, other, { m, n, k });
    const completed = performance.now() - full;
    expect(aborted).toBeLessThan(completed);
  });
});
