// Edge data for the SIMD k-quant kernels (cpp/quant/kquants_simd.inc), byte for byte against
// ggml_quantize_chunk on every ISA. The kernels run one sub-block per vector lane and skip work
// when they can show it changes nothing: a clamp no lane can reach, the exact rounding path when
// every lane is finite and in range, a division no lane needs. These sub-blocks sit on those
// decisions, and mixing them within one vector makes one odd lane decide for its neighbours.
import { describe, expect, test } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { typeInfo, type QuantTypeInfo } from '../../lib/quantize/typeInfo.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { loadGgmlQuantize } from '../reference/ggmlQuantize.js';
import { withIsa } from '../withIsa.js';
import { Rng } from './quantData.js';

const native = loadNative();
const ggml = loadGgmlQuantize();
if (!ggml) console.warn(`kquantsSimd: skipping comparisons with ggml: ${referenceUnavailableReason()}`);
const isas = native.supportedIsas();
const TYPES = ['Q2_K', 'Q4_K', 'Q5_K', 'Q6_K'].map((name) => typeInfo(name));

const f32 = Math.fround;

/** The float `ulps` steps away from f (f > 0). */
function nudge(f: number, ulps: number): number {
  const b = new Float32Array([f]);
  const u = new Int32Array(b.buffer);
  u[0]! += ulps;
  return b[0]!;
}

/** Fills 16 values of one sub-block. */
type Family = { name: string; fill: (r: Rng, x: Float32Array, at: number) => void };

const sign = (r: Rng) => (r.uni() < 0.5 ? -1 : 1);

const FAMILIES: ReadonlyArray<Family> = [
  { name: 'normal', fill: (r, x, at) => { for (let i = 0; i < 16; i++) x[at + i] = r.normal(); } },
  {
    // Q6_K: an element of the sign opposite to the largest, at the ratio where iscale*x crosses
    // 31.5 for one of the 19 candidates (num = 32 + 0.1*is), give or take a few ulps.
    name: 'opposite extremes at the clamp thresholds',
    fill: (r, x, at) => {
      const m = sign(r) * (0.5 + r.uni() * 4);
      for (let i = 0; i < 16; i++) x[at + i] = m * 0.9 * (2 * r.uni() - 1);
      const num = f32(32 + f32(0.1 * (Math.floor(r.uni() * 19) - 9)));
      const ratio = Math.min(1, nudge(f32(31.5 / num), Math.floor(r.uni() * 5) - 2));
      x[at + Math.floor(r.uni() * 16)] = m;
      x[at + Math.floor(r.uni() * 16)] = f32(-m * ratio);
    },
  },
  {
    name: 'half-integer ties',
    fill: (r, x, at) => {
      const s = 2 ** Math.floor(r.uni() * 6 - 3);
      for (let i = 0; i < 16; i++) x[at + i] = sign(r) * (Math.floor(r.uni() * 8) + 0.5) * s;
    },
  },
  {
    name: 'constant (max == min for some)',
    fill: (r, x, at) => {
      const c = [0, -0, -1.5, 0.75, -3e-39][Math.floor(r.uni() * 5)]!;
      for (let i = 0; i < 16; i++) x[at + i] = c;
    },
  },
  { name: 'subnormal range', fill: (r, x, at) => { for (let i = 0; i < 16; i++) x[at + i] = f32(r.normal() * 1e-40); } },
  { name: 'huge', fill: (r, x, at) => { for (let i = 0; i < 16; i++) x[at + i] = f32(r.normal() * (r.uni() < 0.5 ? 1e30 : 1e38)); } },
  {
    name: 'one non-finite value',
    fill: (r, x, at) => {
      for (let i = 0; i < 16; i++) x[at + i] = r.normal();
      x[at + Math.floor(r.uni() * 16)] = [NaN, Infinity, -Infinity][Math.floor(r.uni() * 3)]!;
    },
  },
  {
    name: 'mostly positive (a positive fitted min)',
    fill: (r, x, at) => { for (let i = 0; i < 16; i++) x[at + i] = r.uni() < 0.05 ? -r.uni() * 0.1 : 1 + Math.abs(r.normal()); },
  },
];

// Super-blocks per call differ by type and ISA (1 to 3); these totals leave every remainder.
const SHAPES: ReadonlyArray<readonly [number, number]> = [
  [1, 256],
  [2, 256],
  [1, 512],
  [3, 768],
  [2, 1280],
  [1, 1792],
  [5, 512],
];

function fill(r: Rng, x: Float32Array, pick: (sub: number) => Family): void {
  for (let at = 0, sub = 0; at < x.length; at += 16, sub++) pick(sub).fill(r, x, at);
}

function expectSame(what: string, info: QuantTypeInfo, actual: Uint8Array, expected: Uint8Array): void {
  if (Buffer.from(actual).equals(expected)) return;
  let i = 0;
  while (actual[i] === expected[i]) i++;
  const block = Math.floor(i / info.typeSize);
  const start = block * info.typeSize;
  const hex = (b: Uint8Array) => Buffer.from(b.subarray(start, start + info.typeSize)).toString('hex');
  expect.fail(`${what}: block ${block}, byte ${i - start} differs\n  ours: ${hex(actual)}\n  ggml: ${hex(expected)}`);
}

function check(info: QuantTypeInfo, x: Float32Array, rows: number, cols: number, what: string): void {
  const bytes = rows * (cols / info.blockSize) * info.typeSize;
  const expected = new Uint8Array(bytes);
  expect(ggml!.quantizeChunk(info.id, x, expected, rows, cols, null)).toBe(bytes);
  for (const isa of isas) {
    withIsa(isa, () => {
      const ours = new Uint8Array(bytes);
      native.quantizeSync(info.id, x, 0, ours, rows, cols, null, 1);
      expectSame(`${info.name} [${isa}] ${what}`, info, ours, expected);
    });
  }
}

describe.skipIf(!ggml)('k-quant SIMD kernels on edge sub-blocks equal ggml_quantize_chunk', () => {
  test.each(TYPES.map((t) => [t.name, t] as const))('%s: every sub-block of one family', (_name, info) => {
    for (const [f, family] of FAMILIES.entries()) {
      for (const [rows, cols] of SHAPES) {
        const r = new Rng(100 * info.id + 10 * f + rows + cols);
        const x = new Float32Array(rows * cols);
        fill(r, x, () => family);
        check(info, x, rows, cols, `"${family.name}", ${rows} x ${cols}`);
      }
    }
  });

  test.each(TYPES.map((t) => [t.name, t] as const))('%s: families mixed sub-block by sub-block', (_name, info) => {
    for (let rep = 0; rep < 12; rep++) {
      for (const [rows, cols] of SHAPES) {
        const r = new Rng(7000 + 100 * info.id + 10 * rep + rows + cols);
        const x = new Float32Array(rows * cols);
        // Mostly ordinary lanes with a few odd ones, so that one lane's path decides for a vector.
        fill(r, x, () => (r.uni() < 0.7 ? FAMILIES[0]! : FAMILIES[1 + Math.floor(r.uni() * (FAMILIES.length - 1))]!));
        check(info, x, rows, cols, `mix #${rep}, ${rows} x ${cols}`);
      }
    }
  });
});
