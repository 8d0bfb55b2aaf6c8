// Deterministic test data for the quantizers: the value distributions that exercise ggml's
// rounding traps (ties, all-zero and constant blocks, tiny/huge magnitudes, subnormals, signs),
// ported from the standalone comparison harness that first checked cpp/quant against ggml.

export class Rng {
  private a: number;
  private b: number;
  constructor(seed: number) {
    this.a = (seed * 0x9e3779b1) >>> 0 || 1;
    this.b = (seed ^ 0x85ebca6b) >>> 0 || 2;
  }
  private next32(): number {
    // two interleaved mulberry32 streams
    let t = (this.a = (this.a + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const x = (t ^ (t >>> 14)) >>> 0;
    this.b = (this.b + 0x9e3779b9) >>> 0;
    return (x ^ Math.imul(this.b ^ (this.b >>> 16), 0x21f0aaad)) >>> 0;
  }
  /** Uniform in [0, 1) with 53 random bits. */
  uni(): number {
    return ((this.next32() >>> 5) * 67108864 + (this.next32() >>> 6)) / 9007199254740992;
  }
  normal(): number {
    const u1 = Math.max(this.uni(), 1e-300);
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * this.uni());
  }
  studentT(nu: number): number {
    const z = this.normal();
    let c = 0;
    for (let i = 0; i < nu; i++) {
      const g = this.normal();
      c += g * g;
    }
    return z / Math.sqrt(c / nu);
  }
}

type Fill = (r: Rng, x: Float32Array) => void;

function each(f: (r: Rng, i: number) => number): Fill {
  return (r, x) => {
    for (let i = 0; i < x.length; i++) x[i] = f(r, i);
  };
}

/** One value of a small family, for rows that mix families per block or per element. */
function familyValue(r: Rng, kind: number): number {
  switch (kind) {
    case 0: return r.normal();
    case 1: return r.uni() * 2 - 1;
    case 2: return r.studentT(2);
    case 3: return 0;
    case 4: return -0;
    case 5: return r.normal() * 1e-30;
    case 6: return r.normal() * 1e30;
    case 7: return r.normal() * 1e-40; // subnormal
    case 8: return Math.abs(r.normal());
    case 9: return -Math.abs(r.normal());
    case 10: return r.normal() * 1e-5;
    case 11: return r.normal() * 1e4;
    case 12: return Math.floor(r.uni() * 17) - 8; // integers: rounding ties
    default: return Math.floor(r.uni() * 9) * 0.25 - 1; // quarter steps: ties
  }
}

const mixedBlocks = (size: number): Fill => (r, x) => {
  for (let i = 0; i < x.length; i += size) {
    const kind = Math.floor(r.uni() * 14);
    for (let j = i; j < Math.min(i + size, x.length); j++) x[j] = familyValue(r, kind);
  }
};

export const DATA_KINDS: ReadonlyArray<{ name: string; fill: Fill }> = [
  { name: 'normal', fill: each((r) => r.normal()) },
  { name: 'uniform', fill: each((r) => r.uni() * 2 - 1) },
  { name: 'student-t(2)', fill: each((r) => r.studentT(2)) },
  { name: 'student-t(1)', fill: each((r) => r.studentT(1)) },
  { name: 'sparse outliers', fill: each((r) => (r.uni() < 0.01 ? r.normal() * 5 : r.normal() * 0.02)) },
  { name: 'sparse zeros', fill: each((r) => (r.uni() < 0.9 ? 0 : r.normal())) },
  { name: 'all zero', fill: each(() => 0) },
  { name: 'all -0', fill: each(() => -0) },
  {
    name: 'constant',
    fill: (r, x) => {
      x.fill(r.normal());
    },
  },
  { name: 'constant 0.75', fill: each(() => 0.75) },
  { name: 'constant -1.5', fill: each(() => -1.5) },
  { name: 'tiny 1e-30', fill: each((r) => r.normal() * 1e-30) },
  { name: 'small 1e-14', fill: each((r) => r.normal() * 1e-14) },
  { name: 'huge 1e30', fill: each((r) => r.normal() * 1e30) },
  { name: 'big 1e5', fill: each((r) => r.normal() * 1e5) },
  { name: 'subnormal', fill: each((r) => r.normal() * 1e-40) },
  { name: 'positive', fill: each((r) => Math.abs(r.normal()) + 0.1) },
  { name: 'negative', fill: each((r) => -Math.abs(r.normal()) - 0.1) },
  { name: 'integers', fill: each((r) => Math.floor(r.uni() * 17) - 8) },
  { name: 'mixed per 16', fill: mixedBlocks(16) },
  { name: 'mixed per 32', fill: mixedBlocks(32) },
  { name: 'mixed per element', fill: each((r) => familyValue(r, Math.floor(r.uni() * 14))) },
  {
    name: 'llm-like',
    fill: (r, x) => {
      const s = 0.01 + r.uni() * 0.05;
      for (let i = 0; i < x.length; i++) x[i] = r.normal() * s * (i % 97 === 13 ? 40 : 1);
    },
  },
];

/** NaN-free importance matrices, zeros included. */
export const IMATRIX_KINDS: ReadonlyArray<{ name: string; fill: Fill }> = [
  { name: 'uniform', fill: each((r) => r.uni() * 2) },
  { name: 'with zeros', fill: each((r) => (r.uni() < 0.3 ? 0 : r.uni() * 5)) },
  { name: 'heavy', fill: each((r) => r.normal() ** 4) },
  { name: 'all zero', fill: each(() => 0) },
  {
    name: 'zero blocks',
    fill: (r, w) => {
      for (let i = 0; i < w.length; i += 16) {
        const zero = r.uni() < 0.4;
        for (let j = i; j < Math.min(i + 16, w.length); j++) w[j] = zero ? 0 : r.uni() + 0.01;
      }
    },
  },
];

/** The generator of research/llamacpp.md §2.6 (exact in float32): 4 rows of 4096 and its imatrix. */
export function testVectorInput(): { x: Float32Array; imatrix: Float32Array } {
  const x = new Float32Array(4 * 4096);
  let s = 42n;
  const mask = (1n << 64n) - 1n;
  for (let i = 0; i < x.length; i++) {
    s = (s * 6364136223846793005n + 1442695040888963407n) & mask;
    const u = Number(s >> 40n);
    x[i] = Math.fround(Math.fround(u - 8388608) * Math.fround(1 / 8388608));
    if (i % 17 === 0) x[i] = Math.fround(x[i]! * 4);
  }
  const imatrix = new Float32Array(4096);
  for (let j = 0; j < 4096; j++) imatrix[j] = Math.fround(0.5 + Math.fround(((j * 37) % 101) / 64));
  return { x, imatrix };
}

/** FNV-1a-64 of bytes, as 16 hex digits. */
export function fnv1a64(bytes: Uint8Array): string {
  // 64-bit arithmetic in four 16-bit limbs (BigInt per byte is slow).
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2; // 14695981039346656037
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i]!;
    // multiply by 1099511628211 = 0x100000001b3: h * 0x1b3 + (h << 40)
    const a0 = h0 * 0x1b3, a1 = h1 * 0x1b3, a2 = h2 * 0x1b3 + (h0 << 8), a3 = h3 * 0x1b3 + (h1 << 8);
    h0 = a0 & 0xffff;
    const c1 = a1 + (a0 >>> 16);
    h1 = c1 & 0xffff;
    const c2 = a2 + Math.floor(c1 / 65536);
    h2 = c2 & 0xffff;
    h3 = (a3 + Math.floor(c2 / 65536)) & 0xffff;
  }
  return [h3, h2, h1, h0].map((v) => v.toString(16).padStart(4, '0')).join('');
}
