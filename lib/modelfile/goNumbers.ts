// Go's strconv parsing and fmt printing of the numbers a Modelfile holds, reproduced exactly: PARAMETER
// values go through strconv.ParseInt(v, 10, 64), ParseFloat(v, 32) and ParseBool in Ollama, and
// `ollama show` prints decoded JSON numbers with fmt's %v.

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64): optional sign, decimal digits only (no `_`, no `0x`), int64 range. */
export function parseGoInt64(s: string): number | bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n < INT64_MIN || n > INT64_MAX) return undefined;
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (GO_TRUE.has(s)) return true;
  if (GO_FALSE.has(s)) return false;
  return undefined;
}

export type GoFloat32Result =
  | { ok: true; value: number }
  /** `syntax`: not a Go float; `range`: beyond float32 (Go returns ±Inf and ErrRange); `special`: Inf/NaN. */
  | { ok: false; reason: 'syntax' | 'range' | 'special' };

/**
 * strconv.ParseFloat(s, 32): Go's float literal syntax (decimal or 0x hex with a p exponent, `_` between
 * digits) or inf/infinity/nan, rounded once, to nearest-even, straight to float32. The result is a JS
 * number holding that float32 exactly.
 */
export function parseGoFloat32(s: string): GoFloat32Result {
  if (/^[+-]?(inf|infinity)$/i.test(s) || /^nan$/i.test(s)) return { ok: false, reason: 'special' };
  const lit = readGoFloat(s);
  if (lit === undefined) return { ok: false, reason: 'syntax' };
  const value = lit.hex ? hexToFloat32(lit) : decimalToFloat32(lit.digits, lit.negative);
  if (!Number.isFinite(value)) return { ok: false, reason: 'range' };
  return { ok: true, value };
}

interface GoFloatLiteral {
  negative: boolean;
  hex: boolean;
  /** Decimal: the literal without `_` (a valid JS number string). Hex: the mantissa digits without the point. */
  digits: string;
  /** Hex only: digits after the point, and the binary exponent. */
  fractionDigits: number;
  exponent: number;
}

/** strconv's readFloat, requiring the whole string to be consumed as ParseFloat does. */
function readGoFloat(s: string): GoFloatLiteral | undefined {
  let i = 0;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  // Go requires something after "0x" before calling it hex; "0x" alone is then a syntax error anyway.
  const hex = i + 2 < s.length && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X');
  if (hex) i += 2;
  const mantissaStart = i;
  let sawDot = false;
  let sawDigits = false;
  let underscores = false;
  let fractionDigits = 0;
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '_') underscores = true;
    else if (c === '.') {
      if (sawDot) break;
      sawDot = true;
    } else if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      sawDigits = true;
      if (sawDot) fractionDigits++;
    } else break;
  }
  if (!sawDigits) return undefined;
  const mantissaEnd = i;
  let exponent = 0;
  const expChar = hex ? 'p' : 'e';
  if (i < s.length && (s[i] as string).toLowerCase() === expChar) {
    i++;
    let sign = 1;
    if (s[i] === '+' || s[i] === '-') sign = s[i++] === '-' ? -1 : 1;
    if (!(i < s.length && (s[i] as string) >= '0' && (s[i] as string) <= '9')) return undefined;
    for (; i < s.length && ((s[i] as string) >= '0' && (s[i] as string) <= '9' || s[i] === '_'); i++) {
      if (s[i] === '_') underscores = true;
      else if (exponent < 10000) exponent = exponent * 10 + Number(s[i]);
    }
    exponent *= sign;
  } else if (hex) {
    return undefined; // a hex mantissa needs its p exponent
  }
  if (i !== s.length) return undefined;
  if (underscores && !underscoresOk(s)) return undefined;
  const mantissa = s.slice(mantissaStart, mantissaEnd).replaceAll('_', '');
  return hex
    ? { negative, hex, digits: mantissa.replace('.', ''), fractionDigits, exponent }
    : { negative, hex, digits: s.replaceAll('_', ''), fractionDigits, exponent };
}

/** strconv's underscoreOK: every `_` sits between digits (or right after a base prefix). */
function underscoresOk(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '+' || s[0] === '-') s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && /[bBoOxX]/.test(s[1] as string)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i] as string;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const FLOAT32_MAX = 3.4028234663852886e38;

/** The float32 next to `f` (a finite float32) towards +Infinity or -Infinity. */
function float32Step(f: number, up: boolean): number {
  if (f === 0) return up ? 2 ** -149 : -(2 ** -149);
  f32[0] = f;
  u32[0] = (u32[0] as number) + ((f > 0) === up ? 1 : -1);
  return f32[0] as number;
}

/**
 * Decimal to float32 with a single rounding. JS parses to the nearest double; rounding that to float32
 * is right unless the double landed exactly on a float32 midpoint, in which case the decimal itself is
 * compared with the midpoint, exactly, in BigInt arithmetic.
 */
function decimalToFloat32(literal: string, negative: boolean): number {
  const d = Number(literal);
  const f = Math.fround(d);
  if (f === d || !Number.isFinite(d)) return f;
  const magnitude = Math.abs(d);
  let below: number;
  let above: number;
  if (Math.abs(f) === Infinity) [below, above] = [FLOAT32_MAX, 2 ** 128];
  else if (Math.abs(f) > magnitude) [below, above] = [float32Step(Math.abs(f), false), Math.abs(f)];
  else [below, above] = [Math.abs(f), float32Step(Math.abs(f), true)];
  const midpoint = (below + above) / 2;
  if (magnitude !== midpoint) return f;
  const cmp = compareDecimalWithDouble(literal, midpoint);
  if (cmp === 0) return f; // a true tie: Math.fround already rounded it to even
  const chosen = cmp > 0 ? (above === 2 ** 128 ? Infinity : above) : below;
  return negative ? -chosen : chosen;
}

/** Sign of |literal| − x for a positive finite double x, computed exactly. */
function compareDecimalWithDouble(literal: string, x: number): number {
  const m = /^[+-]?(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (m === null) throw new Error(`not a decimal literal: ${literal}`);
  const intPart = m[1] ?? '';
  const fracPart = m[2] ?? '';
  let digits = BigInt((intPart + fracPart).replace(/^0+/, '') || '0');
  let exp10 = Number(m[3] ?? 0) - fracPart.length;
  // x = mant * 2^exp2 exactly.
  let exp2 = 0;
  let mant = x;
  while (!Number.isInteger(mant)) {
    mant *= 2;
    exp2--;
  }
  let right = BigInt(mant);
  if (exp2 > 0) right <<= BigInt(exp2);
  if (exp2 < 0) digits <<= BigInt(-exp2);
  if (exp10 >= 0) digits *= 10n ** BigInt(exp10);
  else right *= 10n ** BigInt(-exp10);
  return digits === right ? 0 : digits > right ? 1 : -1;
}

/** mantissa × 2^(exponent − 4·fractionDigits) rounded once to float32 (strconv's atofHex). */
function hexToFloat32(lit: GoFloatLiteral): number {
  const mant = BigInt('0x' + (lit.digits.replace(/^0+/, '') || '0'));
  const sign = lit.negative ? -1 : 1;
  if (mant === 0n) return sign * 0;
  const exp = lit.exponent - 4 * lit.fractionDigits;
  const bits = mant.toString(2).length;
  const top = exp + bits - 1; // exponent of the leading bit
  // Significant bits the result keeps: 24, fewer for subnormals (smallest float32 is 2^-149).
  const keep = top >= -126 ? 24 : 24 - (-126 - top);
  if (keep < 0) return sign * 0;
  const shift = bits - keep;
  let q = mant;
  let scale = exp;
  if (shift > 0) {
    q = mant >> BigInt(shift);
    const rest = mant & ((1n << BigInt(shift)) - 1n);
    const half = 1n << BigInt(shift - 1);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
    scale += shift;
  }
  const value = Number(q) * 2 ** scale;
  return sign * (value > FLOAT32_MAX ? Infinity : value);
}

/** Go's shortest decimal digits of a float: value = 0.DIGITS × 10^point. */
interface Digits {
  negative: boolean;
  digits: string;
  point: number;
}

function digitsOf(text: string, negative: boolean): Digits {
  // text is JS exponential notation "d.ddde±x"
  const [mant, e] = text.split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { negative, digits, point: Number(e) + 1 };
}

/**
 * The shortest decimal that reads back as the float32 `f` (what Go's strconv prints for a float32,
 * e.g. when encoding/json writes one): nearest to `f` among the shortest candidates.
 */
function shortestFloat32Digits(f: number): Digits {
  const negative = f < 0 || Object.is(f, -0);
  const x = Math.abs(f);
  if (x === 0) return { negative, digits: '0', point: 1 };
  for (let precision = 1; precision <= 9; precision++) {
    const [mant, e] = x.toExponential(precision - 1).split('e') as [string, string];
    const n = BigInt(mant.replace('.', ''));
    const exp10 = Number(e) - (precision - 1);
    let best: { text: string; distance: number } | undefined;
    // The nearest precision-digit decimal can miss the float32's rounding interval where it is lopsided
    // (at powers of two) while a neighbour hits it, so try both neighbours too.
    for (const candidate of [n - 1n, n, n + 1n]) {
      if (candidate <= 0n) continue;
      const text = `${candidate}e${exp10}`;
      const v = Number(text);
      if (Math.fround(v) !== x) continue;
      const distance = Math.abs(v - x);
      if (best === undefined || distance < best.distance) best = { text, distance };
    }
    if (best !== undefined) return digitsOf(Number(best.text).toExponential(), negative);
  }
  return digitsOf(x.toExponential(), negative); // unreachable: 9 digits always identify a float32
}

function plainDecimal({ negative, digits, point }: Digits): string {
  const sign = negative ? '-' : '';
  if (digits === '0') return `${sign}0`;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * The float32 `f` as the double nearest its shortest decimal (0.7 rather than 0.699999988079071), so
 * that a float64 encoder (Go's or JSON.stringify) prints the same digits Go prints for the float32.
 */
export function float32AsShortestDouble(f: number): number {
  return Number(plainDecimal(shortestFloat32Digits(f)));
}

/**
 * fmt's %v of a float64 (strconv 'g', shortest, exponent when below 1e-4 or at least 1e+06 — hence
 * Ollama's `ollama show` printing 1000000 as 1e+06).
 */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const d = x === 0 ? { negative: Object.is(x, -0), digits: '0', point: 1 } : digitsOf(Math.abs(x).toExponential(), x < 0);
  const exp = d.point - 1;
  if (d.digits !== '0' && (exp < -4 || exp >= 6)) {
    const mant = d.digits.length > 1 ? `${d.digits[0]}.${d.digits.slice(1)}` : d.digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${d.negative ? '-' : ''}${mant}e${exp < 0 ? '-' : '+'}${e}`;
  }
  return plainDecimal(d);
}
