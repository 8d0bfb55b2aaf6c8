// fp16/bf16 row converters of every ISA compiled in and runnable here, bit for bit against ggml's
// own converters (libggml-base.so of @node-llama-cpp/linux-x64, through koffi).
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { loadNative, nativeBinaryPath } from '../../lib/native.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { loadGgmlHalfFloat } from '../reference/ggmlHalfFloat.js';
import { withIsa } from '../withIsa.js';
import { mulberry32U32 } from '../../lib/synthetic/mulberry32.js';

const native = loadNative();
const ref = loadGgmlHalfFloat();
if (!ref) console.warn(`halfFloat: skipping comparisons with ggml: ${referenceUnavailableReason()}`);
const isas = native.supportedIsas();

// Patterns no converter produces at these positions: fp16->fp32 and bf16->fp32 never set the low
// 13 (resp. 16) mantissa bits of a NaN, and 0xDEAD / 0x2152 are checked as two separate runs so
// an element that happens to convert to one of them still shows up as unwritten in the other.
const POISON16 = [0xdead, 0x2152];
const POISON32 = [0xffbadbad, 0x7fa5a5a5];


const hex = (v: number, digits: number) => `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;

/** fp32 bit patterns: random bits, every special class, fp16/bf16 rounding boundaries; odd length. */
function fp32Sample(): Float32Array {
  const values: number[] = [];
  const specials = [
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±inf
    0x7fc00000, 0xffc00000, 0x7fc00001, 0x7fffffff, 0xffffffff, 0x7fc02000, 0xffe01000, // quiet NaNs, payloads
    0x7f800001, 0xff800001, 0x7fbfffff, 0x7f802000, 0xffa00000, 0x7f804000, // signalling NaNs, payloads
    0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00800000, 0x80800000, // fp32 subnormals
    0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001, 0x47800000, 0xc77fe000, 0xc77ff000, 0xc77fefff, // 65504/65520
    0x7f7fffff, 0xff7fffff, 0x7f7f8000, 0x7f7f7fff, 0x7f7fc000, // near fp32 max (bf16 overflow)
    0x33800000, 0x33000000, 0x33000001, 0x32ffffff, 0x33400000, 0x33c00000, 0xb3000000, 0xb3000001, // fp16 subnormal ties
    0x38800000, 0x387fffff, 0x387fe000, 0x387ff000, 0x38801000, // fp16 min normal
    0x3f801000, 0x3f803000, 0x3f800fff, 0x3f801001, // 1 + 2^-11 ties
    0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, // bf16 ties around 1
  ];
  values.push(...specials);
  const toBits = new Uint32Array(1);
  const asFloat = new Float32Array(toBits.buffer);
  // Every fp16 value, and the fp32 values half an fp16 ulp (0x1000 in fp32 bits for normals) away.
  for (let h = 0; h < 0x10000; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0x1f) continue;
    asFloat[0] = e === 0 ? sign * m * 2 ** -24 : sign * (1 + m / 1024) * 2 ** (e - 15);
    const b = toBits[0]!;
    values.push(b, b + 0x1000, b + 0xfff, b + 0x1001, b - 0x1000, b - 0x1001);
  }
  const rand = mulberry32U32(0x9e3779b9);
  for (let i = 0; i < 200_000; i++) {
    const high = rand() & 0xffff0000;
    values.push(high | 0x8000, high | 0x7fff, high | 0x8001, high | 0x0000, high | 0xffff); // bf16 ties
  }
  while (values.length < 2_500_000) values.push(rand());
  if (values.length % 2 === 0) values.push(0x7fc00001);
  const bits = Uint32Array.from(values, (v) => v >>> 0);
  return new Float32Array(bits.buffer);
}

function firstMismatch(actual: Uint16Array | Uint32Array, expected: Uint16Array | Uint32Array): number {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.length === e.length && a.equals(e)) return -1;
  for (let i = 0; i < Math.min(actual.length, expected.length); i++) if (actual[i] !== expected[i]) return i;
  return Math.min(actual.length, expected.length);
}

function expectSameBits(
  what: string,
  input: Uint16Array | Uint32Array,
  actual: Uint16Array | Uint32Array,
  expected: Uint16Array | Uint32Array,
): void {
  const i = firstMismatch(actual, expected);
  if (i < 0) return;
  const inDigits = input.BYTES_PER_ELEMENT * 2;
  const outDigits = actual.BYTES_PER_ELEMENT * 2;
  expect.fail(
    `${what}: element ${i} of ${expected.length}: input ${hex(input[i] ?? 0, inDigits)}, ` +
      `got ${hex(actual[i] ?? 0, outDigits)}, ggml ${hex(expected[i] ?? 0, outDigits)}`,
  );
}

const bits32 = (f: Float32Array) => new Uint32Array(f.buffer, f.byteOffset, f.length);

type ToHalf = 'fp32ToFp16' | 'fp32ToBf16';
type FromHalf = 'fp16ToFp32' | 'bf16ToFp32';

/** Runs a native fp32 -> 16-bit converter into poisoned outputs (with spare room past the end). */
function runToHalf(fn: ToHalf, src: Float32Array, threads: number, poison: number): Uint16Array {
  const dst = new Uint16Array(src.length + 7).fill(poison);
  native[fn](src, dst, threads);
  for (let i = src.length; i < dst.length; i++) if (dst[i] !== poison) expect.fail(`${fn} wrote past the end (element ${i})`);
  return dst.subarray(0, src.length);
}

function runFromHalf(fn: FromHalf, src: Uint16Array, threads: number, poison: number): Uint32Array {
  const dst = new Float32Array(src.length + 7);
  bits32(dst).fill(poison);
  native[fn](src, dst, threads);
  const out = bits32(dst);
  for (let i = src.length; i < out.length; i++) if (out[i] !== poison) expect.fail(`${fn} wrote past the end (element ${i})`);
  return out.subarray(0, src.length);
}

const allHalves = Uint16Array.from({ length: 0x10000 }, (_, i) => i);
const sample = fp32Sample();

function reference16(fn: ToHalf, src: Float32Array): Uint16Array {
  const out = new Uint16Array(src.length).fill(0x5555);
  if (fn === 'fp32ToFp16') ref!.fp32ToFp16Row(src, out);
  else ref!.fp32ToBf16RowRef(src, out);
  return out;
}

function reference32(fn: FromHalf, src: Uint16Array): Uint32Array {
  const out = new Float32Array(src.length);
  bits32(out).fill(0x55555555);
  if (fn === 'fp16ToFp32') ref!.fp16ToFp32Row(src, out);
  else ref!.bf16ToFp32Row(src, out);
  return bits32(out);
}


describe.skipIf(!ref)('fp16/bf16 converters equal ggml bit for bit', () => {
  const expectedFp16 = ref ? reference16('fp32ToFp16', sample) : new Uint16Array();
  const expectedBf16 = ref ? reference16('fp32ToBf16', sample) : new Uint16Array();
  const sampleBits = bits32(sample);

  describe.each(isas)('%s', (isa) => {
    test.each(['fp16ToFp32', 'bf16ToFp32'] as const)('%s over all 65,536 halves, whole and misaligned', (fn) => {
      withIsa(isa, () => {
        const expected = reference32(fn, allHalves);
        for (const poison of POISON32) {
          expectSameBits(`${isa} ${fn}`, allHalves, runFromHalf(fn, allHalves, 1, poison), expected);
          // Odd length, starting off any vector alignment, so every tail path runs.
          for (const [start, end] of [[1, 0x10000], [3, 0xfff0 + 5], [0x7c00, 0x7c00 + 13]] as const) {
            const src = allHalves.subarray(start, end);
            expectSameBits(`${isa} ${fn} [${start}, ${end})`, src, runFromHalf(fn, src, 1, poison), expected.subarray(start, end));
          }
        }
      });
    });

    test.each(['fp32ToFp16', 'fp32ToBf16'] as const)(`%s over ${sample.length.toLocaleString('en')} floats with every special`, (fn) => {
      withIsa(isa, () => {
        const expected = fn === 'fp32ToFp16' ? expectedFp16 : expectedBf16;
        for (const poison of POISON16) {
          expectSameBits(`${isa} ${fn}`, sampleBits, runToHalf(fn, sample, 1, poison), expected);
        }
        for (const [start, end] of [[1, 2], [5, 36], [17, 1000 + 3], [33, sample.length]] as const) {
          const src = sample.subarray(start, end);
          expectSameBits(`${isa} ${fn} [${start}, ${end})`, sampleBits.subarray(start, end), runToHalf(fn, src, 1, POISON16[0]!), expected.subarray(start, end));
        }
      });
    });

    test('short rows (lengths 0..40) convert every element and nothing more', () => {
      withIsa(isa, () => {
        for (let n = 0; n <= 40; n++) {
          const src = sample.subarray(7, 7 + n);
          expectSameBits(`${isa} fp32ToFp16 n=${n}`, bits32(src), runToHalf('fp32ToFp16', src, 1, POISON16[0]!), expectedFp16.subarray(7, 7 + n));
          expectSameBits(`${isa} fp32ToBf16 n=${n}`, bits32(src), runToHalf('fp32ToBf16', src, 1, POISON16[1]!), expectedBf16.subarray(7, 7 + n));
          const halves = allHalves.subarray(0x7bf0, 0x7bf0 + n);
          expectSameBits(`${isa} fp16ToFp32 n=${n}`, halves, runFromHalf('fp16ToFp32', halves, 1, POISON32[0]!), reference32('fp16ToFp32', halves));
          expectSameBits(`${isa} bf16ToFp32 n=${n}`, halves, runFromHalf('bf16ToFp32', halves, 1, POISON32[1]!), reference32('bf16ToFp32', halves));
        }
      });
    });
  });
});

describe('threads', () => {
  // Above the native parallel threshold (1M elements), with a length that splits unevenly.
  const big = new Float32Array(sample.buffer, 0, 2_000_003);
  const halves = new Uint16Array(3_000_001);
  for (let i = 0; i < halves.length; i++) halves[i] = (i * 40503) & 0xffff;

  test.each(isas)('%s: threads=1 and threads=N give identical output', (isa) => {
    withIsa(isa, () => {
      const counts = [...new Set([2, 3, 7, native.threadCount()])];
      for (const fn of ['fp32ToFp16', 'fp32ToBf16'] as const) {
        const one = runToHalf(fn, big, 1, POISON16[0]!);
        if (ref) expectSameBits(`${isa} ${fn} threads=1`, bits32(big), one, reference16(fn, big));
        for (const t of counts) expectSameBits(`${isa} ${fn} threads=${t}`, bits32(big), runToHalf(fn, big, t, POISON16[1]!), one);
      }
      for (const fn of ['fp16ToFp32', 'bf16ToFp32'] as const) {
        const one = runFromHalf(fn, halves, 1, POISON32[0]!);
        if (ref) expectSameBits(`${isa} ${fn} threads=1`, halves, one, reference32(fn, halves));
        for (const t of counts) expectSameBits(`${isa} ${fn} threads=${t}`, halves, runFromHalf(fn, halves, t, POISON32[1]!), one);
      }
    });
  });
});

describe('native argument checks', () => {
  test('dst shorter than src throws RangeError and writes nothing', () => {
    const src = new Float32Array(100).fill(1);
    const dst = new Uint16Array(99).fill(0xdead);
    expect(() => native.fp32ToFp16(src, dst, 1)).toThrow(RangeError);
    expect(() => native.fp32ToBf16(src, dst, 1)).toThrow(RangeError);
    expect(dst.every((v) => v === 0xdead)).toBe(true);
    const out = new Float32Array(99);
    expect(() => native.fp16ToFp32(new Uint16Array(100), out, 1)).toThrow(RangeError);
    expect(() => native.bf16ToFp32(new Uint16Array(100), out, 1)).toThrow(RangeError);
  });

  test('wrong element types throw TypeError', () => {
    const call = native.fp32ToFp16 as unknown as (a: unknown, b: unknown, t: unknown) => void;
    expect(() => call(new Float64Array(4), new Uint16Array(4), 1)).toThrow(TypeError);
    expect(() => call(new Float32Array(4), new Int16Array(4), 1)).toThrow(TypeError);
    expect(() => call([1, 2], new Uint16Array(4), 1)).toThrow(TypeError);
  });

  test('overlapping src and dst throw RangeError', () => {
    const buffer = new ArrayBuffer(64);
    expect(() => native.fp32ToFp16(new Float32Array(buffer, 0, 8), new Uint16Array(buffer, 16, 8), 1)).toThrow(RangeError);
  });

  test('setIsa rejects unknown and unsupported names', () => {
    expect(() => native.setIsa('avx9000')).toThrow(/unknown ISA/);
    const foreign = (['neon', 'avx512', 'avx2'] as const).find((isa) => !isas.includes(isa));
    if (foreign) expect(() => native.setIsa(foreign)).toThrow(/not supported/);
    expect(isas[0]).toBe('scalar');
    expect(native.isa()).toBe(isas[isas.length - 1]);
  });
});

describe('GGUF_FORGE_ISA', () => {
  function isaInChild(value: string): { isa: string; warning?: string } {
    const script = `const a = require(${JSON.stringify(nativeBinaryPath())}); process.stdout.write(JSON.stringify({ isa: a.isa(), warning: a.isaWarning() }));`;
    const result = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, GGUF_FORGE_ISA: value }, encoding: 'utf8' });
    if (result.status !== 0) expect.fail(`child with GGUF_FORGE_ISA=${value} exited ${result.status}: ${result.stderr}`);
    return JSON.parse(result.stdout) as { isa: string; warning?: string };
  }

  test.each(isas)('GGUF_FORGE_ISA=%s selects it at load', (isa) => {
    expect(isaInChild(isa)).toEqual({ isa });
  });

  test('an unknown or unsupported value falls back to the best ISA with a warning', () => {
    const best = isas[isas.length - 1];
    const unknown = isaInChild('avx9000');
    expect(unknown.isa).toBe(best);
    expect(unknown.warning).toMatch(/GGUF_FORGE_ISA=avx9000 is not an ISA name/);
    const foreign = (['neon', 'avx512', 'avx2'] as const).find((isa) => !isas.includes(isa));
    if (foreign) {
      const unsupported = isaInChild(foreign);
      expect(unsupported.isa).toBe(best);
      expect(unsupported.warning).toMatch(/not supported/);
    }
  });
});
