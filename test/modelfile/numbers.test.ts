// Go's number rules as PARAMETER values meet them: strconv.ParseInt(v, 10, 64), ParseFloat(v, 32) with a
// single rounding to float32, ParseBool, and fmt's %v when `ollama show` prints a decoded JSON number.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { float32AsShortestDouble, formatGoFloat, parseGoBool, parseGoFloat32, parseGoInt64 } from '../../lib/modelfile/index.js';

// Deterministic by default; MODELFILE_FC_SEED / MODELFILE_FC_SCALE explore other cases (e.g. SCALE=50).
const FC_SEED = Number(process.env.MODELFILE_FC_SEED ?? 0x5eed);
const FC_SCALE = Number(process.env.MODELFILE_FC_SCALE ?? 1);
const runs = (n: number) => ({ numRuns: Math.round(n * FC_SCALE), seed: FC_SEED });

const FLOAT32_MAX = 3.4028234663852886e38;
const MIN_SUBNORMAL = 2 ** -149;

describe('ParseInt(v, 10, 64)', () => {
  test('sign and decimal digits only, int64 range, bigint beyond 2^53', () => {
    expect(parseGoInt64('42')).toBe(42);
    expect(parseGoInt64('+5')).toBe(5);
    expect(parseGoInt64('-007')).toBe(-7);
    expect(parseGoInt64('9007199254740993')).toBe(9007199254740993n);
    expect(parseGoInt64('9223372036854775807')).toBe(2n ** 63n - 1n);
    expect(parseGoInt64('-9223372036854775808')).toBe(-(2n ** 63n));
    for (const bad of ['', '+', '9223372036854775808', '-9223372036854775809', '1_000', '0x10', '1e3', '4096.0', ' 5', '5 ', '٣']) {
      expect(parseGoInt64(bad), bad).toBeUndefined();
    }
  });
});

test('ParseBool takes exactly Go\'s twelve spellings', () => {
  for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true);
  for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false);
  for (const bad of ['yes', 'on', 'tRUE', 'TrUe', '', ' true']) expect(parseGoBool(bad), bad).toBeUndefined();
});

describe('ParseFloat(v, 32)', () => {
  const value = (s: string) => {
    const r = parseGoFloat32(s);
    if (!r.ok) throw new Error(`${s}: ${r.reason}`);
    return r.value;
  };

  test('Go float syntax: decimal, hex with a p exponent, underscores between digits', () => {
    expect(value('0.7')).toBe(Math.fround(0.7));
    expect(value('.5')).toBe(0.5);
    expect(value('1.')).toBe(1);
    expect(value('-1.5e3')).toBe(-1500);
    expect(value('1_000.5')).toBe(1000.5);
    expect(value('0x1.8p1')).toBe(3);
    expect(value('0x.8p1')).toBe(1);
    expect(value('0X_1P-2')).toBe(0.25);
    expect(Object.is(value('-0'), -0)).toBe(true);
    for (const bad of ['', '.', '1e', '1e+', '0x1', '0x1.8', '1__0', '_1', '1_', '1_.5', '1.2.3', '0.7 # warm', 'infx', '+nan', '١']) {
      expect(parseGoFloat32(bad), bad).toEqual({ ok: false, reason: 'syntax' });
    }
    for (const special of ['inf', '+Inf', '-INFINITY', 'NaN', 'nan']) expect(parseGoFloat32(special), special).toEqual({ ok: false, reason: 'special' });
  });

  test('one rounding straight to float32, even where decimal → double → float32 would round twice', () => {
    // 1 + 2^-24 is halfway between 1 and the next float32: an exact tie goes to even (1) ...
    expect(value('1.000000059604644775390625')).toBe(1);
    // ... but a hair above it must go up, though the nearest double is the midpoint itself.
    expect(value('1.0000000596046447753906251')).toBe(1 + 2 ** -23);
    expect(value('1.0000000596046447753906249')).toBe(1);
    // The overflow edge: just under the midpoint to 2^128 is the largest float32, the midpoint overflows.
    expect(value('3.4028235677973366e38')).toBe(FLOAT32_MAX);
    expect(parseGoFloat32('3.40282356779733661637539395458142568448e38')).toEqual({ ok: false, reason: 'range' });
    expect(parseGoFloat32('1e39')).toEqual({ ok: false, reason: 'range' });
    expect(parseGoFloat32('-1e39')).toEqual({ ok: false, reason: 'range' });
    expect(parseGoFloat32('0x1.ffffffp127')).toEqual({ ok: false, reason: 'range' });
    expect(value('0x1.fffffep127')).toBe(FLOAT32_MAX);
    // Subnormals and underflow (to zero, without an error, as Go does).
    expect(value('1e-45')).toBe(MIN_SUBNORMAL);
    expect(value('7e-46')).toBe(0);
    expect(value('7.1e-46')).toBe(MIN_SUBNORMAL);
    expect(value('0x1p-150')).toBe(0);
    expect(value('0x1.000001p-150')).toBe(MIN_SUBNORMAL);
    expect(value('1e-99999')).toBe(0);
  });

  test('property: any float32, printed by JS, parses back to itself', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const sign = Object.is(f, -0) ? '-' : ''; // JS prints -0 as 0
        expect(Object.is(value(sign + String(f)), f)).toBe(true);
        expect(Object.is(value(sign + f.toExponential(20)), f)).toBe(true);
      }),
      runs(500),
    );
  });
});

describe('shortest float32 digits', () => {
  test('a float32 becomes the double of its shortest decimal, as Go prints float32', () => {
    expect(float32AsShortestDouble(Math.fround(0.7))).toBe(0.7);
    expect(float32AsShortestDouble(Math.fround(0.1))).toBe(0.1);
    expect(float32AsShortestDouble(Math.fround(1e-7))).toBe(1e-7);
    expect(float32AsShortestDouble(Math.fround(16777217))).toBe(16777216);
    expect(float32AsShortestDouble(FLOAT32_MAX)).toBe(3.4028235e38);
    expect(float32AsShortestDouble(MIN_SUBNORMAL)).toBe(1e-45);
    expect(Object.is(float32AsShortestDouble(-0), -0)).toBe(true);
  });

  test('property: the decimal reads back as the same float32 and no shorter one does', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (f) => {
        const d = float32AsShortestDouble(f);
        expect(Object.is(Math.fround(d), f)).toBe(true);
        if (f !== 0) {
          const digits = d.toExponential().split('e')[0]?.replace(/[.-]/g, '').length ?? 0;
          if (digits > 1) expect(Math.fround(Number(Math.abs(f).toPrecision(digits - 1)))).not.toBe(Math.abs(f));
        }
      }),
      runs(500),
    );
  });
});

test("fmt's %v of a float64: exponent below 1e-4 and from 1e+06 up", () => {
  const cases: Array<[number, string]> = [
    [0.7, '0.7'],
    [1, '1'],
    [100, '100'],
    [123456, '123456'],
    [1000000, '1e+06'],
    [1234567, '1.234567e+06'],
    [1e21, '1e+21'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [-2.5, '-2.5'],
    [-0, '-0'],
    [1e100, '1e+100'],
  ];
  for (const [x, text] of cases) expect(formatGoFloat(x), String(x)).toBe(text);
});
