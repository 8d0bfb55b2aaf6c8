// Byte-exact Go encoding/json output for the values Ollama writes (manifests, config, params and
// messages blobs): compact, map keys sorted bytewise (UTF-8 order), struct fields in declaration
// order with omitempty, HTML-safe strings (< > & as \u003c \u003e \u0026), U+2028/U+2029 escaped,
// \b \f \n \r \t short escapes (Go >= 1.22) and \u00XX for other controls, invalid UTF-8 as \ufffd.
//
// How JS values map to Go types:
//   number        float64 (what a Go `any` decoded from JSON holds; safe integers print as integers)
//   bigint        int64 / uint64
//   GoFloat32     float32 (Modelfile PARAMETER floats: float32(0.7) prints "0.7")
//   string        string (a lone UTF-16 surrogate cannot be UTF-8: written as \ufffd)
//   GoRawString   string given as raw bytes, decoded as Go does (each invalid byte → \ufffd)
//   boolean, null bool, nil
//   array         slice
//   plain object or Map   map[string]T, keys sorted; `undefined` members are absent
//   GoStruct      struct: fields in the given order, `omitEmpty` as the `,omitempty` tag option
import { StoreError } from './errors.js';
import { goFloatText } from './goFloat.js';
import { compareUtf8 } from '../utf8Order.js';

export { compareUtf8 };

export class GoFloat32 {
  readonly value: number;
  constructor(value: number) {
    this.value = Math.fround(value);
  }
}

export class GoRawString {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}

export interface GoStructField {
  readonly name: string;
  /** `undefined` is a nil pointer/slice/interface: `null`, or absent with omitEmpty. */
  readonly value: GoJsonValue | undefined;
  readonly omitEmpty?: boolean;
}

export class GoStruct {
  readonly fields: readonly GoStructField[];
  constructor(fields: readonly GoStructField[]) {
    this.fields = fields;
  }
}

export type GoJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | GoFloat32
  | GoRawString
  | GoStruct
  | readonly GoJsonValue[]
  | ReadonlyMap<string, GoJsonValue>
  | { readonly [key: string]: GoJsonValue | undefined };

export const goFloat32 = (value: number): GoFloat32 => new GoFloat32(value);
export const goStruct = (fields: readonly GoStructField[]): GoStruct => new GoStruct(fields);

/** Go's encoder gives up on cycles at depth 1000 (encode.go startDetectingCyclesAfter); so do we, for any nesting. */
const MAX_DEPTH = 1000;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
const HEX = '0123456789abcdef';

function fail(message: string): never {
  throw new StoreError('ERR_STORE_JSON', message);
}

function escapeAscii(c: number): string | undefined {
  switch (c) {
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x3c: // <
    case 0x3e: // >
    case 0x26: // &
      return `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    default:
      return c < 0x20 ? `\\u00${HEX[c >> 4]}${HEX[c & 15]}` : undefined;
  }
}

function quoteString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let replacement: string | undefined;
    if (c < 0x80) replacement = escapeAscii(c);
    else if (c === 0x2028 || c === 0x2029) replacement = c === 0x2028 ? '\\u2028' : '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      replacement = '\\ufffd';
    }
    if (replacement !== undefined) {
      out += s.slice(start, i) + replacement;
      start = i + 1;
    }
  }
  return `${out}${s.slice(start)}"`;
}

/** Width of the UTF-8 sequence at `i` as Go's utf8.DecodeRune accepts it, or 0 when it would return (RuneError, 1). */
function utf8Width(b: Uint8Array, i: number): number {
  const b0 = b[i] as number;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && (b[i + k] as number) >= lo && (b[i + k] as number) <= hi;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf; // no surrogates
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf; // nothing above U+10FFFF
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

const UTF8 = new TextDecoder('utf-8');

function quoteRawString(bytes: Uint8Array): string {
  let out = '"';
  let start = 0;
  const flush = (end: number) => {
    if (end > start) out += UTF8.decode(bytes.subarray(start, end));
  };
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i] as number;
    if (c < 0x80) {
      const replacement = escapeAscii(c);
      if (replacement !== undefined) {
        flush(i);
        out += replacement;
        start = i + 1;
      }
      i++;
      continue;
    }
    const width = utf8Width(bytes, i);
    if (width === 0) {
      flush(i);
      out += '\\ufffd';
      start = ++i;
      continue;
    }
    if (width === 3 && c === 0xe2 && bytes[i + 1] === 0x80 && (bytes[i + 2] === 0xa8 || bytes[i + 2] === 0xa9)) {
      flush(i);
      out += bytes[i + 2] === 0xa8 ? '\\u2028' : '\\u2029';
      start = i + 3;
    }
    i += width;
  }
  flush(bytes.length);
  return `${out}"`;
}


function isEmpty(value: GoJsonValue | undefined): boolean {
  if (value === undefined || value === null || value === false || value === '' || value === 0 || value === 0n) return true;
  if (value instanceof GoFloat32) return value.value === 0;
  if (value instanceof GoRawString) return value.bytes.length === 0;
  if (value instanceof GoStruct) return false; // Go never treats a struct value as empty
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map) return value.size === 0;
  if (typeof value === 'object') return Object.values(value).every((v) => v === undefined);
  return false;
}

function encodeValue(value: GoJsonValue | undefined, depth: number, where: string): string {
  if (depth > MAX_DEPTH) fail(`json: nesting deeper than ${MAX_DEPTH} at ${where} (a cycle?)`);
  if (value === undefined) fail(`json: undefined at ${where} (use null for nil)`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quoteString(value);
    case 'number':
      return goFloatText(value, 64);
    case 'bigint':
      if (value < INT64_MIN || value > UINT64_MAX) fail(`json: integer ${value} at ${where} does not fit int64/uint64`);
      return value.toString();
    case 'object':
      break;
    default:
      fail(`json: unsupported type ${typeof value} at ${where}`);
  }
  if (value instanceof GoFloat32) return goFloatText(value.value, 32);
  if (value instanceof GoRawString) return quoteRawString(value.bytes);
  if (value instanceof GoStruct) {
    const parts: string[] = [];
    for (const field of value.fields) {
      if (field.omitEmpty && isEmpty(field.value)) continue;
      const text = field.value === undefined ? 'null' : encodeValue(field.value, depth + 1, `${where}.${field.name}`);
      parts.push(`${quoteString(field.name)}:${text}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item: GoJsonValue, i) => encodeValue(item, depth + 1, `${where}[${i}]`)).join(',')}]`;
  }
  if (ArrayBuffer.isView(value)) fail(`json: typed arrays are not encoded (wrap bytes meant as a string in GoRawString) at ${where}`);
  const entries: Array<[string, GoJsonValue]> = [];
  if (value instanceof Map) {
    for (const [k, v] of value as ReadonlyMap<unknown, GoJsonValue>) {
      if (typeof k !== 'string') fail(`json: map key ${String(k)} at ${where} is not a string`);
      entries.push([k, v]);
    }
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) fail(`json: unsupported object at ${where}`);
    for (const [k, v] of Object.entries(value as Record<string, GoJsonValue | undefined>)) if (v !== undefined) entries.push([k, v]);
  }
  entries.sort((a, b) => compareUtf8(a[0], b[0]));
  return `{${entries.map(([k, v]) => `${quoteString(k)}:${encodeValue(v, depth + 1, `${where}.${k}`)}`).join(',')}}`;
}

/** json.Marshal(value): compact, no trailing newline (what Ollama PUTs to a registry). */
export function marshalGoJson(value: GoJsonValue): string {
  return encodeValue(value, 0, '$');
}

/** json.NewEncoder(w).Encode(value): compact plus "\n" (every blob and manifest Ollama writes), as UTF-8 bytes. */
export function encodeGoJson(value: GoJsonValue): Buffer {
  return Buffer.from(`${encodeValue(value, 0, '$')}\n`, 'utf8');
}
