// Q3_K's SIMD quantizer (cpp/quant/kquants_low_simd.inc) works on batches of 64 super-blocks and
// repacks the sub-blocks that need more than one coordinate-descent sweep; the cases that only
// show up at that scale (batch tails, sub-blocks that need all five sweeps, a zero requantization
// step on a sub-block that swept several times, NaN and overflowing sums in some lanes of a
// vector) are checked here byte for byte against ggml_quantize_chunk, on every ISA.
import { describe, expect, test } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { typeInfo } from '../../lib/quantize/typeInfo.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { loadGgmlQuantize } from '../reference/ggmlQuantize.js';
import { Rng } from './quantData.js';
import { withIsa } from '../withIsa.js';

const native = loadNative();
const ggml = loadGgmlQuantize();
if (!ggml) console.warn(`q3kSimd: skipping comparisons with ggml: ${referenceUnavailableReason()}`);
const Q3_K = typeInfo('Q3_K');

// 5 rows of 59 super-blocks: the row loop hands the kernel 4 rows (236 blocks: three full batches
// and a tail of 44) and then 1 row (a batch of 59).
const ROWS = 5;
const COLS = 59 * 256;

type Fill = (r: Rng, x: Float32Array) => void;

const perSubBlock = (f: (r: Rng, sub: number, x: Float32Array, at: number) => void): Fill => (r, x) => {
  for (let at = 0; at < x.length; at += 16) f(r, at / 16, x, at);
};

const DATA: ReadonlyArray<{ name: string; fill: Fill }> = [
  { name: 'normal', fill: (r, x) => x.forEach((_, i) => (x[i] = r.normal())) },
  {
    // Every other sub-block's scale rounds to 0 against the loud one, so it keeps the L of its
    // own search, including the sub-blocks that swept more than once.
    name: 'one loud sub-block per super-block',
    fill: perSubBlock((r, sub, x, at) => {
      for (let i = 0; i < 16; i++) x[at + i] = r.normal() * (sub % 16 === 3 ? 3000 : 1);
    }),
  },
  {
    name: 'NaN, ±inf and overflowing squares in some sub-blocks',
    fill: perSubBlock((r, sub, x, at) => {
      const kind = Math.floor(r.uni() * 8);
      for (let i = 0; i < 16; i++) {
        const u = r.uni();
        let v = r.normal();
        if (kind === 0 && u < 0.1) v = NaN;
        else if (kind === 1 && u < 0.1) v = u < 0.05 ? Infinity : -Infinity;
        else if (kind === 2) v *= 1e25; // x*x overflows: sums of inf and NaN
        x[at + i] = v;
      }
    }),
  },
  {
    name: 'super-blocks whose fp16 step underflows',
    fill: perSubBlock((r, sub, x, at) => {
      const scale = [1e-6, 1e-9, 1e-30, 1][Math.floor(sub / 16) % 4]!;
      for (let i = 0; i < 16; i++) x[at + i] = r.normal() * scale;
    }),
  },
  {
    name: 'magnitudes spread over 24 decades, signs skewed',
    fill: perSubBlock((r, _sub, x, at) => {
      const scale = 10 ** (r.uni() * 24 - 12);
      const skew = r.uni() - 0.5;
      for (let i = 0; i < 16; i++) x[at + i] = (r.normal() + skew * 3) * scale;
    }),
  },
];

/** 6-bit scale of sub-block j of the Q3_K block at `at` (32 = a zero step). */
function q3Scale(bytes: Uint8Array, at: number, j: number): number {
  const s = bytes.subarray(at + 96, at + 108);
  const low = j < 8 ? s[j]! & 15 : s[j - 8]! >> 4;
  return low | (((s[8 + (j % 4)]! >> (2 * Math.floor(j / 4))) & 3) << 4);
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe.skipIf(!ggml)('Q3_K SIMD quantizer equals ggml_quantize_chunk over many batches', () => {
  const bytes = (ROWS * COLS / 256) * Q3_K.typeSize;

  test.each(DATA.map((d, i) => [d.name, d, i] as const))('%s, on every ISA', (_name, data, index) => {
    const x = new Float32Array(ROWS * COLS);
    data.fill(new Rng(9001 + index), x);
    const expected = new Uint8Array(bytes);
    expect(ggml!.quantizeChunk(Q3_K.id, x, expected, ROWS, COLS, null)).toBe(bytes);
    for (const isa of native.supportedIsas()) {
      withIsa(isa, () => {
        const ours = new Uint8Array(bytes).fill(0xa5);
        native.quantizeSync(Q3_K.id, x, 0, ours, ROWS, COLS, null, 1);
        const at = firstDifference(ours, expected);
        if (at >= 0) {
          const block = Math.floor(at / Q3_K.typeSize);
          expect.fail(`${data.name} [${isa}]: super-block ${block}, byte ${at % Q3_K.typeSize} differs from ggml's`);
        }
      });
    }
  });

  test('the loud-sub-block data does reach the zero-step path', () => {
    const x = new Float32Array(ROWS * COLS);
    DATA[1]!.fill(new Rng(9002), x);
    const out = new Uint8Array(bytes);
    ggml!.quantizeChunk(Q3_K.id, x, out, ROWS, COLS, null);
    let zeroSteps = 0;
    for (let at = 0; at < bytes; at += Q3_K.typeSize) for (let j = 0; j < 16; j++) if (q3Scale(out, at, j) === 32) zeroSteps++;
    // 15 of every 16 sub-blocks, minus the few whose own scale is large enough to round to ±1.
    expect(zeroSteps).toBeGreaterThan((ROWS * COLS) / 16 / 2);
  });
});
