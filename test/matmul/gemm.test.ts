// The GEMM matches a float64 product within 1e-5 of each element's scale (|alpha|·Σ|a·b| + |beta·c|)
// on odd shapes, every layout and every ISA this machine runs; its results do not depend on the
// thread count; the degenerate shapes behave as in BLAS.
import { describe, expect, test } from 'vitest';
import { gemm, gemmSync } from '../../lib/matmul/gemm.js';
import { loadNative } from '../../lib/native.js';
import { withIsa } from '../withIsa.js';
import { gemmMismatch, randomMatrix, referenceGemm, type GemmCase } from './gemmReference.js';

const native = loadNative();
const isas = native.supportedIsas();

// Around the register tiles (AVX-512 14x32, AVX2 6x16, NEON 8x12), the work items (kMR*8 rows,
// ~512 columns), the k block (256) and the packed B panel (4096 columns).
const SHAPES: Array<[m: number, n: number, k: number]> = [
  [1, 1, 1],
  [7, 13, 5],
  [65, 33, 17],
  [129, 257, 64],
  [13, 31, 8],
  [14, 32, 8],
  [15, 33, 8],
  [29, 47, 257], // two k blocks
  [33, 65, 600], // three
  [113, 40, 9], // past one AVX-512 work item of rows
  [20, 513, 4], // past one work item of columns
  [2, 4099, 3], // past one packed B panel
  [1000, 3, 7], // tall and skinny
  [3, 1000, 7], // short and wide
  [50, 70, 1], // k = 1
];

const LAYOUTS: Array<[transA: boolean, transB: boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

// [alpha, beta, with c]: a plain product into a new array, an accumulation (the LoRA merge), and
// a general update with a negative alpha.
const SCALINGS: Array<[alpha: number, beta: number, withC: boolean]> = [
  [1, 0, false],
  [0.37, 1, true],
  [-2, 0.5, true],
  [1.5, 0, true], // beta 0 with a NaN-filled c: nothing of it may survive
];

function runCase(isa: string, a: Float32Array, b: Float32Array, c0: Float32Array, g: GemmCase, withC: boolean, threads?: number): Float32Array {
  let c: Float32Array | undefined;
  if (withC) c = g.beta === 0 ? new Float32Array(g.m * g.n).fill(NaN) : c0.slice();
  return withIsa(isa as never, () =>
    gemmSync(a, b, { m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB, alpha: g.alpha, ...(withC ? { c, beta: g.beta } : {}), ...(threads ? { threads } : {}) }),
  );
}

describe('gemm matches a float64 reference within 1e-5 relative', () => {
  test('this machine runs more than the scalar reference', () => {
    expect(isas[0]).toBe('scalar');
    if (process.arch === 'x64' || process.arch === 'arm64') expect(isas.length).toBeGreaterThan(1);
  });

  test.each(SHAPES)('%i x %i x %i, every layout, scaling and ISA', (m, n, k) => {
    const failures: string[] = [];
    let seed = m * 7919 + n * 104729 + k;
    for (const [transA, transB] of LAYOUTS) {
      const a = randomMatrix(m * k, ++seed);
      const b = randomMatrix(k * n, ++seed);
      const c0 = randomMatrix(m * n, ++seed, -4, 4);
      for (const [alpha, beta, withC] of SCALINGS) {
        const g: GemmCase = { m, n, k, transA, transB, alpha, beta };
        const ref = referenceGemm(a, b, c0, g);
        for (const isa of isas) {
          const got = runCase(isa, a, b, c0, g, withC);
          const label = `[${isa}] ${m}x${n}x${k} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta}${withC ? ' (c given)' : ''}`;
          const mismatch = gemmMismatch(label, got, ref, n);
          if (mismatch) failures.push(mismatch);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('positive data (no cancellation): every element within 1e-5 of the exact value itself', () => {
    const [m, n, k] = [97, 131, 300];
    const a = randomMatrix(m * k, 11, 0.5, 2);
    const b = randomMatrix(k * n, 12, 0.5, 2);
    const g: GemmCase = { m, n, k, transA: false, transB: false, alpha: 1, beta: 0 };
    const ref = referenceGemm(a, b, undefined, g);
    for (const isa of isas) {
      const got = withIsa(isa, () => gemmSync(a, b, { m, n, k }));
      let worst = 0;
      for (let e = 0; e < got.length; e++) worst = Math.max(worst, Math.abs(got[e]! - ref.value[e]!) / ref.value[e]!);
      expect(worst, `[${isa}] largest relative error`).toBeLessThan(1e-5);
    }
  });

  test('every SIMD variant leaves the reference (FMA, k blocks) and all give the same bits', () => {
    // Each element is one chain of fused multiply-adds over k blocks of 256 whatever the tile
    // shape, so AVX2, AVX-512 and NEON agree bit for bit; the reference rounds every product.
    const [m, n, k] = [40, 70, 600];
    const a = randomMatrix(m * k, 21);
    const b = randomMatrix(k * n, 22);
    const results = isas.map((isa) => withIsa(isa, () => Buffer.from(gemmSync(a, b, { m, n, k }).buffer).toString('hex')));
    const simd = results.slice(1);
    for (const [i, r] of simd.entries()) expect(r === results[0], `${isas[i + 1]} equals the scalar reference`).toBe(false);
    expect(new Set(simd).size).toBeLessThanOrEqual(1);
  });
});

describe('results never depend on the thread count', () => {
  test.each(isas)('%s: 1 thread, 2 threads and the async path give the same bits', async (isa) => {
    // Several work items per thread, three k blocks and ragged edges.
    const [m, n, k] = [301, 1100, 600];
    const a = randomMatrix(m * k, 31);
    const b = randomMatrix(k * n, 32);
    const c0 = randomMatrix(m * n, 33);
    const one = withIsa(isa, () => gemmSync(a, b, { m, n, k, c: c0.slice(), alpha: 0.5, threads: 1 }));
    const two = withIsa(isa, () => gemmSync(a, b, { m, n, k, c: c0.slice(), alpha: 0.5, threads: 2 }));
    const previous = native.isa();
    native.setIsa(isa);
    let viaPromise: Float32Array;
    try {
      viaPromise = await gemm(a, b, { m, n, k, c: c0.slice(), alpha: 0.5 });
    } finally {
      native.setIsa(previous);
    }
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    expect(Buffer.from(viaPromise.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });
});

describe('degenerate shapes behave as in BLAS', () => {
  test.each(isas)('%s: alpha 0 or k 0 leaves A and B unread and scales C by beta', (isa) => {
    const nanA = new Float32Array(6).fill(NaN);
    const b = new Float32Array(6).fill(1);
    const c = Float32Array.from([1, 2, 3, 4]);
    withIsa(isa, () => {
      expect([...gemmSync(nanA, b, { m: 2, n: 2, k: 3, c: c.slice(), alpha: 0, beta: 0.5 })]).toEqual([0.5, 1, 1.5, 2]);
      expect([...gemmSync(new Float32Array(0), new Float32Array(0), { m: 2, n: 2, k: 0, c: c.slice(), beta: 3 })]).toEqual([3, 6, 9, 12]);
      expect([...gemmSync(new Float32Array(0), new Float32Array(0), { m: 2, n: 2, k: 0, c: new Float32Array(4).fill(NaN), beta: 0 })]).toEqual([0, 0, 0, 0]);
      expect(gemmSync(new Float32Array(0), new Float32Array(12), { m: 0, n: 4, k: 3 })).toHaveLength(0);
    });
  });

  test('NaN and infinity in A or B propagate (no early-out on zeros)', () => {
    const a = Float32Array.from([1, NaN, 0, 0, Infinity, 1]);
    const b = Float32Array.from([0, 1, 0, 1, 2, 3]); // 3x2
    for (const isa of isas) {
      const c = withIsa(isa, () => gemmSync(a, b, { m: 2, n: 2, k: 3 }));
      expect(Number.isNaN(c[0]) && Number.isNaN(c[1]), `[${isa}] row 0: ${[...c]}`).toBe(true);
      expect(c[2], `[${isa}] Infinity·0 + ...`).toBeNaN();
      expect(c[3], `[${isa}]`).toBe(Infinity);
    }
  });
});
