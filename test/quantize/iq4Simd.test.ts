// IQ4_NL / IQ4_XS SIMD kernels (cpp/quant/iq4_simd.inc), byte for byte against ggml_quantize_chunk
// on every ISA, on what the shared data kinds of matchesGgml.test.ts leave out: every block count
// around the vector widths (8 and 16 blocks per step; partial last steps with idle lanes), values
// exactly on the midpoints between two levels and one ulp either side (ggml's tie goes to the upper
// level), and NaN / ±inf inside otherwise normal blocks.
import { describe, expect, test } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { typeInfo, type QuantTypeInfo } from '../../lib/quantize/typeInfo.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { loadGgmlQuantize } from '../reference/ggmlQuantize.js';
import { Rng } from './quantData.js';
import { withIsa } from '../withIsa.js';

const native = loadNative();
const ggml = loadGgmlQuantize();
if (!ggml) console.warn(`iq4 SIMD: skipping comparisons with ggml: ${referenceUnavailableReason()}`);
const isas = native.supportedIsas();

const LEVELS = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
const MIDPOINTS = LEVELS.slice(1).map((v, i) => (LEVELS[i]! + v) / 2);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** The float32 next to x (x finite, not 0) away from (+1) or towards (-1) zero. */
function ulpStep(x: number, dir: 1 | -1): number {
  f32[0] = x;
  u32[0] = u32[0]! + dir;
  return f32[0]!;
}

function quantizeBoth(info: QuantTypeInfo, x: Float32Array, rows: number, cols: number): { expected: Uint8Array; actual: Map<string, Uint8Array> } {
  const bytes = rows * (cols / info.blockSize) * info.typeSize;
  const expected = new Uint8Array(bytes).fill(0x5a);
  expect(ggml!.quantizeChunk(info.id, x, expected, rows, cols, null)).toBe(bytes);
  const actual = new Map<string, Uint8Array>();
  for (const isa of isas) {
    const dst = new Uint8Array(bytes + 16).fill(0xa5);
    withIsa(isa, () => native.quantizeSync(info.id, x, 0, dst, rows, cols, null, 1));
    for (let i = bytes; i < dst.length; i++) if (dst[i] !== 0xa5) expect.fail(`${info.name} [${isa}]: wrote past the end (byte ${i})`);
    actual.set(isa, dst.subarray(0, bytes));
  }
  return { expected, actual };
}

/** Fails naming the ISA and the first differing block, with both blocks in hex. */
function expectEqual(what: string, info: QuantTypeInfo, run: { expected: Uint8Array; actual: Map<string, Uint8Array> }): void {
  for (const [isa, got] of run.actual) {
    const i = got.findIndex((b, k) => b !== run.expected[k]);
    if (i < 0) continue;
    const block = Math.floor(i / info.typeSize);
    const hex = (a: Uint8Array) => Array.from(a.subarray(block * info.typeSize, (block + 1) * info.typeSize), (b) => b.toString(16).padStart(2, '0')).join(' ');
    expect.fail(`${what} [${isa}]: block ${block}, byte ${i % info.typeSize} differs\n  ours: ${hex(got)}\n  ggml: ${hex(run.expected)}`);
  }
}

/** A block of n values: mostly normal with a per-block magnitude, some blocks special on purpose. */
function fillBlock(r: Rng, x: Float32Array, start: number, n: number, kind: number): void {
  const scale = Math.exp((r.uni() - 0.5) * 20);
  for (let j = start; j < start + n; j++) x[j] = r.normal() * scale;
  const at = () => start + Math.floor(r.uni() * n);
  switch (kind) {
    case 0: x[at()] = NaN; break;
    case 1: x[at()] = Infinity; break;
    case 2: x[at()] = -Infinity; break;
    case 3: x[at()] = Infinity; x[at()] = -Infinity; break;
    case 4: x.fill(0, start, start + n); break;
    case 5: for (let j = start; j < start + n; j++) x[j] = r.normal() * 1e-16; break; // below GROUP_MAX_EPS
    default: break; // plain
  }
}

describe.skipIf(!ggml)('IQ4 SIMD kernels equal ggml_quantize_chunk', () => {
  for (const name of ['IQ4_NL', 'IQ4_XS'] as const) {
    const info = typeInfo(name);
    const maxBlocks = name === 'IQ4_NL' ? 35 : 5; // past two full 16-lane steps, every remainder

    test(`${name}: every block count 1..${maxBlocks} (partial vector steps), NaN / ±inf / zero / tiny blocks mixed in`, () => {
      const r = new Rng(name === 'IQ4_NL' ? 20 : 23);
      for (let blocks = 1; blocks <= maxBlocks; blocks++) {
        const x = new Float32Array(blocks * info.blockSize);
        for (let b = 0; b < x.length / 32; b++) fillBlock(r, x, 32 * b, 32, Math.floor(r.uni() * 12));
        // One row, and the same values as rows of one block (IQ4_NL) or one super-block (IQ4_XS).
        expectEqual(`${name}, ${blocks} blocks in one row`, info, quantizeBoth(info, x, 1, x.length));
        expectEqual(`${name}, ${blocks} rows of one block`, info, quantizeBoth(info, x, blocks, info.blockSize));
      }
    });

    test(`${name}: values on the midpoints between levels and one ulp either side (ties go to the upper level)`, () => {
      // With -127 as the block's largest magnitude, the first candidate scale maps x to -x and the
      // itry = 0 candidate maps x to x exactly, so these land on the midpoints themselves.
      const r = new Rng(7);
      const blocks = name === 'IQ4_NL' ? 48 : 6;
      const x = new Float32Array(blocks * info.blockSize);
      for (let b = 0; b < x.length / 32; b++) {
        x[32 * b] = b % 2 === 0 ? -127 : 127;
        for (let j = 1; j < 32; j++) {
          const m = MIDPOINTS[Math.floor(r.uni() * MIDPOINTS.length)]!;
          const v = r.uni() < 0.5 ? m : -m;
          const step = Math.floor(r.uni() * 3) - 1;
          x[32 * b + j] = step === 0 ? v : ulpStep(v, step as 1 | -1);
        }
      }
      expectEqual(`${name} midpoints`, info, quantizeBoth(info, x, 1, x.length));
    });
  }
});
