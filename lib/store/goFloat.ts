// Number text exactly as Go's encoding/json writes a float32 or float64 (encode.go floatEncoder):
// the shortest decimal that reads back as the same value (strconv.AppendFloat, precision -1), in
// 'f' form unless |x| < 1e-6 or |x| >= 1e21 (compared in the value's own width), then 'e' form with
// the "e-07" → "e-7" clean-up. So 0.7 (float32) is "0.7", 1e-7 is "1e-7", 1e21 is "1e+21".
import { StoreError } from './errors.js';

/** Significant digits (no leading or trailing zeros) and the decimal point position: value = 0.DIGITS × 10^point. */
interface Decimal {
  digits: string;
  point: number;
}

/** Shortest round-trip digits of a positive finite double: V8's own (ES Number::toString picks the closest of the shortest). */
function shortestFloat64(value: number): Decimal {
  const text = value.toExponential();
  const e = text.indexOf('e');
  const digits = text.slice(0, e).replace('.', '');
  return { digits, point: Number(text.slice(e + 1)) + 1 };
}

const F32 = new DataView(new ArrayBuffer(4));

function ceilDiv(n: bigint, d: bigint): bigint {
  return n >= 0n ? (n + d - 1n) / d : -(-n / d);
}

/**
 * Shortest digits of a positive finite float32, computed exactly (BigInt) rather than by trying
 * toPrecision(1..9): a double-rounding parse or a power-of-two boundary (where the gap below is half
 * the gap above) can make the naive search disagree with Go's Ryu. The result is the decimal with the
 * fewest digits inside the rounding interval (ends included when the mantissa is even, as
 * round-half-even parsing accepts them), closest to the value among those.
 */
function shortestFloat32(value: number): Decimal {
  F32.setFloat32(0, value);
  const bits = F32.getUint32(0);
  const biased = (bits >>> 23) & 0xff;
  const fraction = bits & 0x7fffff;
  const m = BigInt(biased === 0 ? fraction : fraction | 0x800000);
  const e = biased === 0 ? -149 : biased - 150;
  // Work in units of 2^(e-2): value 4m, interval [4m - 2 (or 4m - 1 at a power of two), 4m + 2].
  const unitsShift = e - 2;
  const v4 = 4n * m;
  const low4 = biased > 1 && fraction === 0 ? v4 - 1n : v4 - 2n;
  const high4 = v4 + 2n;
  const inclusive = (m & 1n) === 0n;
  const pow2 = unitsShift >= 0 ? 2n ** BigInt(unitsShift) : 1n;
  const den2 = unitsShift < 0 ? 2n ** BigInt(-unitsShift) : 1n;

  for (let q = Math.floor(Math.log10(value)) + 1; ; q--) {
    // x / 10^q as the fraction num/den, for x = units × 2^unitsShift.
    const num10 = q < 0 ? 10n ** BigInt(-q) : 1n;
    const den = den2 * (q > 0 ? 10n ** BigInt(q) : 1n);
    const scale = (units: bigint) => units * pow2 * num10;
    let lo = ceilDiv(scale(low4), den);
    let hi = scale(high4) / den;
    if (!inclusive) {
      if (lo * den === scale(low4)) lo += 1n;
      if (hi * den === scale(high4)) hi -= 1n;
    }
    if (lo < 1n) lo = 1n;
    if (lo > hi) continue;
    const vNum = scale(v4);
    let d = (2n * vNum + den) / (2n * den); // nearest; an exact tie cannot occur (see notes in the commit)
    if (d < lo) d = lo;
    if (d > hi) d = hi;
    const text = d.toString();
    const digits = text.replace(/0+$/, '');
    return { digits, point: text.length + q };
  }
}

function formatFixed({ digits, point }: Decimal): string {
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

function formatExponent({ digits, point }: Decimal): string {
  const exp = point - 1;
  const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const abs = Math.abs(exp);
  // strconv pads the exponent to two digits; encoding/json then strips the pad only after "e-".
  const expText = exp < 0 ? `-${abs}` : `+${abs < 10 ? '0' : ''}${abs}`;
  return `${mantissa}e${expText}`;
}

const F32_1E_6 = Math.fround(1e-6);
const F32_1E21 = Math.fround(1e21);

/** The JSON text Go writes for a float of the given width (a float32 value is rounded to float32 first). */
export function goFloatText(value: number, bits: 32 | 64): string {
  if (!Number.isFinite(value)) {
    throw new StoreError('ERR_STORE_JSON', `json: unsupported value: ${Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf'}`);
  }
  const x = bits === 32 ? Math.fround(value) : value;
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const abs = Math.abs(x);
  const sign = x < 0 ? '-' : '';
  const decimal = bits === 32 ? shortestFloat32(abs) : shortestFloat64(abs);
  const exponential = bits === 32 ? abs < F32_1E_6 || abs >= F32_1E21 : abs < 1e-6 || abs >= 1e21;
  return sign + (exponential ? formatExponent(decimal) : formatFixed(decimal));
}
