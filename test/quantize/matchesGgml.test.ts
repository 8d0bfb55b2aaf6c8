// Every quantization type, with and without an importance matrix, on every ISA this binary runs
// here: byte for byte against ggml_quantize_chunk of llama.cpp's own libggml-base.so, and the
// dequantizers bit for bit against ggml's to_float (through koffi, test/reference/).
import { describe, expect, test } from 'vitest';
import { loadNative } from '../../lib/native.js';
import { quantizeSync } from '../../lib/quantize/quantize.js';
import { QUANT_TYPE_NAMES, typeInfo, type QuantTypeInfo } from '../../lib/quantize/typeInfo.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { loadGgmlHalfFloat } from '../reference/ggmlHalfFloat.js';
import { loadGgmlQuantize } from '../reference/ggmlQuantize.js';
import { DATA_KINDS, IMATRIX_KINDS, Rng, fnv1a64, testVectorInput } from './quantData.js';
import { withIsa } from '../withIsa.js';

const native = loadNative();
const ggml = loadGgmlQuantize();
const ggmlHalf = loadGgmlHalfFloat();
if (!ggml) console.warn(`quantize: skipping comparisons with ggml: ${referenceUnavailableReason()}`);
const isas = native.supportedIsas();
const TYPES = QUANT_TYPE_NAMES.map((name) => typeInfo(name));

// Bytes no correct output leaves in place unnoticed: ours and ggml's outputs start from different
// poison, and GUARD bytes past the end must stay untouched.
const POISON_OURS = 0xa5;
const POISON_GGML = 0x5a;
const POISON_F32 = 0x7fa5a5a5; // a NaN payload no dequantizer produces
const GUARD = 16;

// Row lengths per block size: odd multiples of the block on purpose.
const COLS: Record<number, number[]> = { 1: [7, 33, 256, 1001], 32: [32, 96, 160, 224, 1056], 256: [256, 768, 1280] };
const ROWS = 3;


const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** Fails naming the first differing byte by row, block and offset, with both blocks in hex. */
function expectSameBlocks(what: string, info: QuantTypeInfo, cols: number, actual: Uint8Array, expected: Uint8Array): void {
  if (Buffer.from(actual.buffer, actual.byteOffset, actual.length).equals(expected)) return;
  let i = 0;
  while (i < Math.min(actual.length, expected.length) && actual[i] === expected[i]) i++;
  const rowBytes = (cols / info.blockSize) * info.typeSize;
  const row = Math.floor(i / rowBytes);
  const block = Math.floor((i % rowBytes) / info.typeSize);
  const start = row * rowBytes + block * info.typeSize;
  expect.fail(
    `${what}: row ${row}, block ${block}, byte ${i - start} of the block (offset ${i} of ${expected.length}) differs\n` +
      `  ours: ${hex(actual.subarray(start, start + info.typeSize))}\n` +
      `  ggml: ${hex(expected.subarray(start, start + info.typeSize))}`,
  );
}

function ours(info: QuantTypeInfo, x: Float32Array, rows: number, cols: number, imatrix: Float32Array | null, threads: number): Uint8Array {
  const bytes = rows * (cols / info.blockSize) * info.typeSize;
  const dst = new Uint8Array(bytes + GUARD).fill(POISON_OURS);
  native.quantizeSync(info.id, x, 0, dst, rows, cols, imatrix, threads);
  for (let i = bytes; i < dst.length; i++) if (dst[i] !== POISON_OURS) expect.fail(`${info.name}: wrote past the end (byte ${i})`);
  return dst.subarray(0, bytes);
}

function reference(info: QuantTypeInfo, x: Float32Array, rows: number, cols: number, imatrix: Float32Array | null): Uint8Array {
  const bytes = rows * (cols / info.blockSize) * info.typeSize;
  const dst = new Uint8Array(bytes).fill(POISON_GGML);
  expect(ggml!.quantizeChunk(info.id, x, dst, rows, cols, imatrix)).toBe(bytes);
  return dst;
}

function ourFloats(info: QuantTypeInfo, bytes: Uint8Array, count: number): Uint32Array {
  const out = new Float32Array(count + GUARD / 4);
  const bits = new Uint32Array(out.buffer);
  bits.fill(POISON_F32);
  native.dequantize(info.id, bytes, out, count, 1);
  for (let i = count; i < bits.length; i++) if (bits[i] !== POISON_F32) expect.fail(`${info.name}: dequantize wrote past the end`);
  return bits.subarray(0, count);
}

function ggmlFloats(info: QuantTypeInfo, bytes: Uint8Array, count: number): Uint32Array {
  const out = new Float32Array(count);
  new Uint32Array(out.buffer).fill(0x7f5a5a5a);
  ggml!.toFloat(info.id, bytes, out, count);
  return new Uint32Array(out.buffer);
}

function expectSameFloats(what: string, info: QuantTypeInfo, actual: Uint32Array, expected: Uint32Array): void {
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(
        `${what}: weight ${i} (block ${Math.floor(i / info.blockSize)}) is 0x${actual[i]!.toString(16)}, ggml's to_float gives 0x${expected[i]!.toString(16)}`,
      );
    }
  }
}

describe.skipIf(!ggml)('quantizers equal ggml_quantize_chunk byte for byte', () => {
  test('the block layouts equal ggml_get_type_traits', () => {
    for (const info of TYPES) expect(ggml!.traits(info.id), info.name).toEqual({ blockSize: info.blockSize, typeSize: info.typeSize });
  });

  test.each(TYPES.map((t) => [t.name, t] as const))(
    '%s: every data kind × {no imatrix, 5 imatrix kinds} × odd row lengths, on every ISA; dequantized bitwise',
    (_name, info) => {
      let seed = 1000 + info.id * 7919;
      for (const cols of COLS[info.blockSize]!) {
        for (const kind of DATA_KINDS) {
          for (const im of [null, ...IMATRIX_KINDS]) {
            const r = new Rng(++seed);
            const x = new Float32Array(ROWS * cols);
            kind.fill(r, x);
            let imatrix: Float32Array | null = null;
            if (im) {
              imatrix = new Float32Array(cols);
              im.fill(r, imatrix);
            }
            const expected = reference(info, x, ROWS, cols, imatrix);
            const expectedFloats = ggmlFloats(info, expected, x.length);
            for (const isa of isas) {
              const what = `${info.name} [${isa}] data "${kind.name}", imatrix ${im ? `"${im.name}"` : 'none'}, ${ROWS} rows of ${cols}`;
              withIsa(isa, () => {
                expectSameBlocks(what, info, cols, ours(info, x, ROWS, cols, imatrix, 1), expected);
                expectSameFloats(`${what}, dequantized`, info, ourFloats(info, expected, x.length), expectedFloats);
              });
            }
          }
        }
      }
    },
  );

  test.each(TYPES.map((t) => [t.name, t] as const))('%s: dequantizing random block bytes (any scale bits) equals ggml', (_name, info) => {
    const r = new Rng(777 + info.id);
    const count = info.blockSize === 1 ? 256 : 4 * info.blockSize;
    const bytes = new Uint8Array((count / info.blockSize) * info.typeSize);
    for (let rep = 0; rep < 100; rep++) {
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r.uni() * 256);
      const expected = ggmlFloats(info, bytes, count);
      for (const isa of isas) withIsa(isa, () => expectSameFloats(`${info.name} [${isa}] random bytes #${rep}`, info, ourFloats(info, bytes, count), expected));
    }
  });

  test.each(TYPES.map((t) => [t.name, t] as const))('%s: 1 and 2 threads give the same bytes, equal to ggml, on an uneven row split', (_name, info) => {
    const rows = 37;
    const cols = 2048;
    const r = new Rng(31 + info.id);
    const x = new Float32Array(rows * cols);
    DATA_KINDS.find((k) => k.name === 'llm-like')!.fill(r, x);
    const imatrix = new Float32Array(cols);
    IMATRIX_KINDS.find((k) => k.name === 'with zeros')!.fill(r, imatrix);
    for (const im of [null, imatrix]) {
      const expected = reference(info, x, rows, cols, im);
      for (const threads of [1, 2, 3, 0]) {
        expectSameBlocks(`${info.name} threads=${threads} imatrix=${im ? 'yes' : 'no'}`, info, cols, ours(info, x, rows, cols, im, threads), expected);
      }
      const floats = new Float32Array(rows * cols);
      native.dequantize(info.id, expected, floats, rows * cols, 2);
      expectSameFloats(`${info.name} dequantized with 2 threads`, info, new Uint32Array(floats.buffer), ggmlFloats(info, expected, rows * cols));
    }
  });

  test.skipIf(!ggmlHalf).each(TYPES.map((t) => [t.name, t] as const))(
    '%s: F16 and BF16 sources (aligned and not) quantize like ggml does their f32 values',
    (_name, info) => {
      const rows = 5;
      const cols = 512;
      const r = new Rng(4242 + info.id);
      const x = new Float32Array(rows * cols);
      DATA_KINDS.find((k) => k.name === 'mixed per 32')!.fill(r, x);
      for (const sourceType of ['F16', 'BF16'] as const) {
        const halves = new Uint16Array(x.length);
        const widened = new Float32Array(x.length);
        if (sourceType === 'F16') {
          ggmlHalf!.fp32ToFp16Row(x, halves);
          ggmlHalf!.fp16ToFp32Row(halves, widened);
        } else {
          ggmlHalf!.fp32ToBf16RowRef(x, halves);
          ggmlHalf!.bf16ToFp32Row(halves, widened);
        }
        const expected = reference(info, widened, rows, cols, null);
        expectSameBlocks(`${info.name} from ${sourceType}`, info, cols, quantizeSync(info.name, halves, { rows, cols, sourceType }), expected);
        const unaligned = new Uint8Array(halves.byteLength + 1).subarray(1);
        unaligned.set(new Uint8Array(halves.buffer));
        expectSameBlocks(
          `${info.name} from ${sourceType} at an odd byte offset`,
          info,
          cols,
          quantizeSync(info.name, unaligned, { rows, cols, sourceType, threads: 2 }),
          expected,
        );
      }
      const unalignedF32 = new Uint8Array(x.byteLength + 3).subarray(3);
      unalignedF32.set(new Uint8Array(x.buffer));
      const expected = reference(info, x, rows, cols, null);
      expectSameBlocks(`${info.name} from F32 bytes at an odd offset`, info, cols, quantizeSync(info.name, unalignedF32, { rows, cols }), expected);
      const unalignedBlocks = new Uint8Array(expected.length + 1).subarray(1);
      unalignedBlocks.set(expected);
      expectSameFloats(`${info.name} dequantized from an odd offset`, info, ourFloats(info, unalignedBlocks, x.length), ggmlFloats(info, expected, x.length));
    },
  );
});

// research/llamacpp.md §2.6: hashes of ggml_quantize_chunk output of the pinned ggml 0.25.1; they
// need no reference library, so they also run where it does not load.
const TEST_VECTORS: ReadonlyArray<readonly [string, string, string | null]> = [
  ['Q4_0', 'ab77a1499a7f34fd', 'c376367e968abd9c'],
  ['Q4_1', 'e2a0e0285182d7d0', 'daad7b65c423eb45'],
  ['Q5_0', '9fedca452a63e727', 'b54f997509dfbf41'],
  ['Q5_1', 'cf135ebebb05e4c5', '87ab47d58de560ec'],
  ['Q8_0', 'e87ffd5c410594d5', 'e87ffd5c410594d5'],
  ['Q2_K', '2b655b5075660f69', 'ac978acda3f8dd0c'],
  ['Q3_K', '2787ec9b67655653', '6e3741da4b7ee521'],
  ['Q4_K', '117b45563e6a0275', '54e94f85f4eed977'],
  ['Q5_K', '57030ee131661ee5', '5fa0f53b1e4653ed'],
  ['Q6_K', '945568b592dde03e', '8d20f02a131700a1'],
  ['IQ4_NL', '202be7bdaa4947d9', '9b0202057f23c16f'],
  ['IQ4_XS', '54cd31577bc016af', '59b1c0187fafd20b'],
  ['F16', '1285c605de2e4d72', null],
  ['BF16', '9d2dd5cefef06d48', null],
];

describe('FNV-1a-64 test vectors of research/llamacpp.md §2.6', () => {
  const { x, imatrix } = testVectorInput();
  test.each(TEST_VECTORS)('%s', (name, plain, withImatrix) => {
    for (const isa of isas) {
      withIsa(isa, () => {
        for (const threads of [1, 2]) {
          expect(fnv1a64(quantizeSync(name, x, { rows: 4, cols: 4096, threads })), `${name} [${isa}] threads=${threads}`).toBe(plain);
          if (withImatrix) {
            expect(fnv1a64(quantizeSync(name, x, { rows: 4, cols: 4096, imatrix, threads })), `${name} [${isa}] imatrix`).toBe(withImatrix);
          }
        }
      });
    }
  });
});
