// Float64 reference for the GEMM tests and the error check they share.
export interface GemmCase {
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
}

/** Seeded uniform values in [lo, hi), rounded to f32 (xorshift32: the same on every platform). */
export function randomMatrix(length: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(length);
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = lo + ((x >>> 0) / 2 ** 32) * (hi - lo);
  }
  return out;
}

/**
 * alpha·op(A)·op(B) + beta·C in float64 from the f32 inputs, and for each element the scale its
 * rounding error is measured against: |alpha|·Σ|a·b| + |beta·c| (the exact value itself when no
 * term cancels). beta 0 ignores C entirely, as BLAS does.
 */
export function referenceGemm(a: Float32Array, b: Float32Array, c: Float32Array | undefined, g: GemmCase): { value: Float64Array; scale: Float64Array } {
  const { m, n, k } = g;
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  const row = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) row[p] = g.transA ? a[p * m + i]! : a[i * k + p]!;
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let magnitude = 0;
      for (let p = 0; p < k; p++) {
        const t = row[p]! * (g.transB ? b[j * k + p]! : b[p * n + j]!);
        sum += t;
        magnitude += Math.abs(t);
      }
      const old = g.beta === 0 || c === undefined ? 0 : g.beta * c[i * n + j]!;
      value[i * n + j] = g.alpha * sum + old;
      scale[i * n + j] = Math.abs(g.alpha) * magnitude + Math.abs(old);
    }
  }
  return { value, scale };
}

/**
 * Undefined when every element of `got` is within `tolerance` × its scale of the reference (NaN
 * never is); otherwise a message naming the worst element.
 */
export function gemmMismatch(label: string, got: Float32Array, ref: { value: Float64Array; scale: Float64Array }, n: number, tolerance = 1e-5): string | undefined {
  let worst = -1;
  let worstError = 0;
  for (let e = 0; e < got.length; e++) {
    const error = Math.abs(got[e]! - ref.value[e]!) / Math.max(ref.scale[e]!, Number.MIN_VALUE);
    if (!(error <= worstError)) {
      worst = e;
      worstError = Number.isNaN(error) ? Infinity : error;
      if (worstError === Infinity) break;
    }
  }
  if (worst < 0 || worstError <= tolerance) return undefined;
  const i = Math.floor(worst / n);
  const j = worst % n;
  return `${label}: C[${i}][${j}] = ${got[worst]} but the float64 product is ${ref.value[worst]} (error ${worstError.toExponential(2)} of the scale ${ref.scale[worst]!.toExponential(3)}, tolerance ${tolerance})`;
}
