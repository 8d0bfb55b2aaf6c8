// GGUF header reader: versions 1–3, either byte order, every value type, strict like llama.cpp's
// gguf_init_from_reader. One parser serves buffers, sync and async files; files are read by
// positioned reads of a growing prefix, never whole.
import { open } from 'node:fs/promises';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GgufError } from './errors.js';
import { ggmlTypeInfo, GGML_TYPE_COUNT, tensorByteLengthBig } from './ggmlTypes.js';
import { GgufValueType } from './types.js';
import type { GgufArray, GgufHeader, GgufMetadataEntry, GgufTensorInfo, GgufValue } from './types.js';

/** Longest string (key, value or tensor name) accepted, in bytes (llama.cpp: 2^30). */
export const MAX_STRING_BYTES = 2 ** 30;
/** Most items in one metadata array (llama.cpp: 2^30). */
export const MAX_ARRAY_ITEMS = 2 ** 30;
/** Deepest nesting of arrays inside arrays (gguf-py writes them; llama.cpp accepts none). */
export const MAX_ARRAY_NESTING = 8;
/** GGML_MAX_NAME - 1: tensor names are stored in a char[64] with a terminating NUL. */
export const MAX_TENSOR_NAME_BYTES = 63;
/** GGML_MAX_DIMS. */
export const MAX_TENSOR_DIMS = 4;
/** First positioned read of a file; the prefix doubles while the parser asks for more. */
export const FIRST_READ_BYTES = 1 << 20;

const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
const DEFAULT_ALIGNMENT = 32;
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of one array item: numeric and bool are fixed; strings and nested arrays give their minimum. */
function itemSize(type: number, v1: boolean): number {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    case GgufValueType.STRING:
      return v1 ? 4 : 8;
    case GgufValueType.ARRAY:
      return v1 ? 8 : 12;
    default:
      return 0;
  }
}

type NumericArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | BigUint64ArrayConstructor
  | BigInt64ArrayConstructor
  | Float64ArrayConstructor;

const NUMERIC_ARRAY: ReadonlyArray<NumericArrayCtor | undefined> = [
  Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array,
  undefined, undefined, undefined, BigUint64Array, BigInt64Array, Float64Array,
];

// Buffer's undocumented per-encoding slices skip toString's encoding switch; this is the hot path.
interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const HAS_FAST_SLICES = typeof (Buffer.prototype as unknown as Partial<FastSlices>).utf8Slice === 'function'
  && typeof (Buffer.prototype as unknown as Partial<FastSlices>).latin1Slice === 'function';

/** UTF-8 (invalid sequences become U+FFFD); short ASCII strings take the cheaper latin1 path. */
function decodeUtf8(buffer: Buffer & FastSlices, start: number, end: number): string {
  if (end - start < 24) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if ((buffer[i] as number) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return HAS_FAST_SLICES ? buffer.latin1Slice(start, end) : buffer.toString('latin1', start, end);
  }
  return HAS_FAST_SLICES ? buffer.utf8Slice(start, end) : buffer.toString('utf8', start, end);
}

/** Decodes `n` length-prefixed strings (lengths already validated). A top-level function, so its optimised code is shared by every array. */
function decodeStringItems(region: Buffer & FastSlices, n: number, le: boolean, v1: boolean): string[] {
  const items = new Array<string>(n);
  const view = new DataView(region.buffer, region.byteOffset, region.byteLength);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    // lengths were checked while parsing (< 2^30), so the low 32 bits are the length
    const len = v1 ? view.getUint32(pos, le) : view.getUint32(le ? pos : pos + 4, le);
    pos += v1 ? 4 : 8;
    items[i] = decodeUtf8(region, pos, pos + len);
    pos += len;
  }
  return items;
}

/**
 * A STRING array whose `items` are decoded on first access (then kept): `region` holds the
 * already validated items, each a length (u64, or u32 in v1) followed by its bytes.
 */
function lazyStringArray(region: Buffer & FastSlices, n: number, le: boolean, v1: boolean): GgufArray {
  const array = { itemType: GgufValueType.STRING } as GgufArray;
  const settle = (items: string[]) => {
    Object.defineProperty(array, 'items', { value: items, writable: true, enumerable: true, configurable: true });
    return items;
  };
  Object.defineProperty(array, 'items', {
    enumerable: true,
    configurable: true,
    get: () => settle(decodeStringItems(region, n, le, v1)),
    set(items: string[]) {
      settle(items);
    },
  });
  return array;
}

/** Thrown (not an Error: it is control flow) when the parser needs bytes beyond the prefix it has. */
class NeedMoreBytes {
  constructor(readonly end: number) {}
}

function byteSwap(bytes: Uint8Array, width: number): void {
  if (width === 2) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const a = bytes[i] as number;
      bytes[i] = bytes[i + 1] as number;
      bytes[i + 1] = a;
    }
  } else if (width === 4) {
    for (let i = 0; i + 3 < bytes.length; i += 4) {
      const a = bytes[i] as number;
      const b = bytes[i + 1] as number;
      bytes[i] = bytes[i + 3] as number;
      bytes[i + 1] = bytes[i + 2] as number;
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else if (width === 8) {
    for (let i = 0; i + 7 < bytes.length; i += 8) {
      for (let j = 0; j < 4; j++) {
        const a = bytes[i + j] as number;
        bytes[i + j] = bytes[i + 7 - j] as number;
        bytes[i + 7 - j] = a;
      }
    }
  }
}

/**
 * A resumable parser over a prefix of the file. It commits after each key-value pair and each tensor
 * info, so when a larger prefix arrives (`extend`) it goes on from the last complete item instead of
 * starting over.
 */
class HeaderParser {
  #bytes: Uint8Array = new Uint8Array(0);
  #buffer: Buffer & FastSlices = Buffer.alloc(0) as Buffer & FastSlices;
  #view: DataView = new DataView(new ArrayBuffer(0));
  #pos = 0;
  #le = true;
  #v1 = false;
  readonly #fileSize: number;
  readonly #sizeKnown: boolean;
  readonly #file: string | undefined;

  #stage: 'preamble' | 'kv' | 'tensors' | 'done' = 'preamble';
  #committed = 0;
  #version = 0;
  #nKv = 0;
  #nTensors = 0;
  #metadata: GgufMetadataEntry[] = [];
  #keys = new Set<string>();
  #alignment = DEFAULT_ALIGNMENT;
  #alignmentOffset = -1;
  #tensors: GgufTensorInfo[] = [];
  #tensorBytes: bigint[] = [];
  #tensorOffsets: bigint[] = [];
  #tensorOffsetAt: number[] = [];
  #names = new Set<string>();

  /** Probe mode walks and checks everything but skips decoding string values and copying arrays (finding the header's end cheaply). */
  readonly #probe: boolean;

  constructor(fileSize: number | undefined, file: string | undefined, probe = false) {
    this.#probe = probe;
    this.#sizeKnown = fileSize !== undefined;
    this.#fileSize = fileSize ?? Number.POSITIVE_INFINITY;
    this.#file = file;
  }

  /** Parses as far as `bytes` (a prefix of the file, growing between calls) allows. */
  parse(bytes: Uint8Array): GgufHeader {
    // A plain Uint8Array view: a Buffer's slice() would share memory instead of copying.
    this.#bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Buffer & FastSlices;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = this.#committed;
    if (this.#stage === 'preamble') {
      this.#readPreamble();
      this.#stage = 'kv';
      this.#committed = this.#pos;
    }
    if (this.#stage === 'kv') {
      while (this.#metadata.length < this.#nKv) {
        this.#readKv();
        this.#committed = this.#pos;
      }
      this.#checkAlignment();
      this.#stage = 'tensors';
    }
    if (this.#stage === 'tensors') {
      while (this.#tensors.length < this.#nTensors) {
        this.#readTensorInfo();
        this.#committed = this.#pos;
      }
      this.#stage = 'done';
    }
    return this.#finish();
  }

  #fail(code: string, message: string, offset: number): never {
    throw new GgufError(code, message, { offset, file: this.#file });
  }

  /** Ensures `n` more bytes; throws NeedMoreBytes when they lie beyond the prefix, TRUNCATED beyond the file. */
  #need(n: number, what: string): void {
    const end = this.#pos + n;
    if (end <= this.#bytes.length) return;
    if (end > this.#fileSize || (!this.#sizeKnown && end > this.#bytes.length)) {
      const size = this.#sizeKnown ? this.#fileSize : this.#bytes.length;
      this.#fail('ERR_GGUF_TRUNCATED', `Expected ${n} bytes of ${what} but the file ends after ${size - this.#pos}`, this.#pos);
    }
    throw new NeedMoreBytes(end);
  }

  #remaining(): number {
    return (this.#sizeKnown ? this.#fileSize : this.#bytes.length) - this.#pos;
  }

  #u32(what: string): number {
    this.#need(4, what);
    const v = this.#view.getUint32(this.#pos, this.#le);
    this.#pos += 4;
    return v;
  }

  #u64(what: string): bigint {
    this.#need(8, what);
    const v = this.#view.getBigUint64(this.#pos, this.#le);
    this.#pos += 8;
    return v;
  }

  /** A count or length: u32 in v1, u64 after. */
  #length(what: string): bigint {
    return this.#v1 ? BigInt(this.#u32(what)) : this.#u64(what);
  }

  /** Checks `count` items of at least `minBytes` each against the limit and the bytes left in the file. */
  #checkCount(count: bigint, minBytes: number, limit: number, what: string, at: number, reserved = 0): number {
    if (count > BigInt(limit)) this.#fail('ERR_GGUF_LIMIT', `Expected at most ${limit} for ${what} but received ${count}`, at);
    const remaining = this.#remaining() - reserved;
    if (count * BigInt(minBytes) > BigInt(remaining)) {
      this.#fail('ERR_GGUF_TRUNCATED', `Expected room for ${what} = ${count} (at least ${count * BigInt(minBytes)} bytes) but the file has ${remaining} bytes left for it`, at);
    }
    return Number(count);
  }

  #string(what: string, skipInProbe = false): string {
    const at = this.#pos;
    const len = this.#checkCount(this.#length(`${what} length`), 1, MAX_STRING_BYTES, `${what} length`, at);
    this.#need(len, what);
    const start = this.#pos;
    this.#pos += len;
    return skipInProbe && this.#probe ? '' : this.#decode(start, start + len);
  }

  #decode(start: number, end: number): string {
    return decodeUtf8(this.#buffer, start, end);
  }

  #readPreamble(): void {
    this.#need(4, 'magic');
    const magic = this.#view.getUint32(0, true);
    if (magic !== GGUF_MAGIC) {
      const shown = Array.from(this.#bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
      this.#fail('ERR_GGUF_BAD_MAGIC', `Expected the magic "GGUF" (47 47 55 46) but received ${shown}`, 0);
    }
    this.#pos = 4;
    let version = this.#u32('version');
    // A big-endian file read little-endian has its version in the high half (llama.cpp's test).
    if ((version & 0xffff) === 0 && version !== 0) {
      this.#le = false;
      version = this.#view.getUint32(4, false);
    }
    if (version < 1 || version > 3) {
      this.#fail('ERR_GGUF_UNSUPPORTED_VERSION', `Expected GGUF version 1, 2 or 3 but received ${version}`, 4);
    }
    this.#version = version;
    this.#v1 = version === 1;
    const tensorsAt = this.#pos;
    const nTensors = this.#length('n_tensors');
    const kvAt = this.#pos;
    const nKv = this.#length('n_kv');
    // Smallest key-value: key length + (empty) key + type + 1 byte of value.
    this.#nKv = this.#checkCount(nKv, (this.#v1 ? 4 : 8) + 5, Number.MAX_SAFE_INTEGER, 'n_kv', kvAt);
    // Smallest tensor info: name length + (empty) name + n_dims + type + offset; checked against what the KVs leave.
    const minKvBytes = this.#nKv * ((this.#v1 ? 4 : 8) + 5);
    const minInfo = (this.#v1 ? 4 : 8) + 16;
    this.#nTensors = this.#checkCount(nTensors, minInfo, Number.MAX_SAFE_INTEGER, 'n_tensors', tensorsAt, minKvBytes);
  }

  #readKv(): void {
    const keyAt = this.#pos;
    const key = this.#string('key');
    if (key.length === 0) this.#fail('ERR_GGUF_EMPTY_KEY', `Expected a non-empty key for key-value pair ${this.#metadata.length}`, keyAt);
    if (this.#keys.has(key)) this.#fail('ERR_GGUF_DUPLICATE_KEY', `Expected unique keys but "${key}" occurs twice`, keyAt);
    const typeAt = this.#pos;
    const type = this.#valueType(`the value of "${key}"`);
    if (key === 'general.alignment') this.#alignmentOffset = typeAt;
    const value = this.#value(type, 0);
    this.#keys.add(key);
    this.#metadata.push({ key, type, value });
  }

  #valueType(what: string): GgufValueType {
    const at = this.#pos;
    const type = this.#u32('value type');
    const max = this.#v1 ? GgufValueType.ARRAY : GgufValueType.FLOAT64;
    if (type > max) this.#fail('ERR_GGUF_BAD_VALUE_TYPE', `Expected a value type in 0..${max} for ${what} but received ${type}`, at);
    return type;
  }

  #value(type: GgufValueType, depth: number): GgufValue {
    if (type === GgufValueType.STRING) return this.#string('string value', true);
    if (type === GgufValueType.ARRAY) return this.#array(depth + 1);
    const le = this.#le;
    const view = this.#view;
    const p = this.#pos;
    const size = itemSize(type, this.#v1);
    this.#need(size, GgufValueType[type] as string);
    this.#pos += size;
    switch (type) {
      case GgufValueType.UINT8:
        return view.getUint8(p);
      case GgufValueType.INT8:
        return view.getInt8(p);
      case GgufValueType.UINT16:
        return view.getUint16(p, le);
      case GgufValueType.INT16:
        return view.getInt16(p, le);
      case GgufValueType.UINT32:
        return view.getUint32(p, le);
      case GgufValueType.INT32:
        return view.getInt32(p, le);
      case GgufValueType.FLOAT32:
        return view.getFloat32(p, le);
      case GgufValueType.BOOL:
        return view.getUint8(p) !== 0;
      case GgufValueType.UINT64:
        return view.getBigUint64(p, le);
      case GgufValueType.INT64:
        return view.getBigInt64(p, le);
      case GgufValueType.FLOAT64:
        return view.getFloat64(p, le);
    }
  }

  #array(depth: number): GgufArray {
    const at = this.#pos;
    if (depth > MAX_ARRAY_NESTING) this.#fail('ERR_GGUF_NESTING', `Expected arrays nested at most ${MAX_ARRAY_NESTING} deep but this one is ${depth} deep`, at);
    const itemType = this.#valueType('an array item');
    const countAt = this.#pos;
    const size = itemSize(itemType, this.#v1);
    const n = this.#checkCount(this.#length('array length'), size, MAX_ARRAY_ITEMS, 'array length', countAt);
    const Ctor = NUMERIC_ARRAY[itemType];
    if (Ctor) {
      this.#need(n * size, 'array items');
      if (this.#probe) {
        this.#pos += n * size;
        return { itemType, items: new Ctor(0) };
      }
      // A copy (never a view of the caller's buffer), so the typed array is aligned and owns its bytes.
      const copy = new Uint8Array(n * size);
      copy.set(this.#bytes.subarray(this.#pos, this.#pos + n * size));
      if (!this.#le && size > 1) byteSwap(copy, size);
      this.#pos += n * size;
      return { itemType, items: new Ctor(copy.buffer, 0, n) };
    }
    if (itemType === GgufValueType.BOOL) {
      this.#need(n, 'array items');
      if (this.#probe) {
        this.#pos += n;
        return { itemType, items: [] };
      }
      const items = new Array<boolean>(n);
      for (let i = 0; i < n; i++) items[i] = (this.#bytes[this.#pos + i] as number) !== 0;
      this.#pos += n;
      return { itemType, items };
    }
    if (itemType === GgufValueType.STRING) {
      const start = this.#pos;
      this.#skipStringArray(n);
      if (this.#probe) return { itemType, items: [] };
      // Decoded on first access: most readers want the architecture and shapes, not 150K tokens.
      // The bytes are copied, so a caller reusing its buffer cannot change the strings.
      const region = Buffer.from(this.#bytes.subarray(start, this.#pos)) as Buffer & FastSlices;
      return lazyStringArray(region, n, this.#le, this.#v1);
    }
    const items = new Array<GgufArray>(n);
    for (let i = 0; i < n; i++) items[i] = this.#array(depth + 1);
    return { itemType, items };
  }

  /** Walks `n` string items, checking each length against the limit and the file; decodes nothing. */
  #skipStringArray(n: number): void {
    const bytes = this.#bytes;
    const view = this.#view;
    const le = this.#le;
    const v1 = this.#v1;
    const lengthBytes = v1 ? 4 : 8;
    let pos = this.#pos;
    for (let i = 0; i < n; i++) {
      if (pos + lengthBytes > bytes.length) {
        this.#pos = pos;
        this.#need(lengthBytes, 'string length');
      }
      let len: number;
      if (v1) {
        len = view.getUint32(pos, le);
      } else {
        const lo = view.getUint32(pos + (le ? 0 : 4), le);
        const hi = view.getUint32(pos + (le ? 4 : 0), le);
        len = hi === 0 && lo <= MAX_STRING_BYTES ? lo : MAX_STRING_BYTES + 1;
      }
      if (len > MAX_STRING_BYTES) {
        this.#pos = pos;
        this.#string('string item'); // throws the limit error with its offset
      }
      const end = pos + lengthBytes + len;
      if (end > bytes.length) {
        this.#pos = pos + lengthBytes;
        this.#need(len, 'string item');
      }
      pos = end;
    }
    this.#pos = pos;
  }

  #checkAlignment(): void {
    const entry = this.#metadata.find((m) => m.key === 'general.alignment');
    if (!entry) return;
    if (entry.type !== GgufValueType.UINT32) {
      this.#fail('ERR_GGUF_BAD_ALIGNMENT', `Expected general.alignment of type UINT32 but received ${GgufValueType[entry.type]}`, this.#alignmentOffset);
    }
    const a = entry.value as number;
    if (a === 0 || (a & (a - 1)) !== 0) {
      this.#fail('ERR_GGUF_BAD_ALIGNMENT', `Expected a power of two for general.alignment but received ${a}`, this.#alignmentOffset + 4);
    }
    this.#alignment = a;
  }

  #readTensorInfo(): void {
    const index = this.#tensors.length;
    const nameAt = this.#pos;
    const name = this.#string('tensor name');
    const nameBytes = this.#pos - nameAt - (this.#v1 ? 4 : 8);
    if (nameBytes > MAX_TENSOR_NAME_BYTES) {
      this.#fail('ERR_GGUF_TENSOR_NAME', `Expected a tensor name of at most ${MAX_TENSOR_NAME_BYTES} bytes but tensor ${index} has ${nameBytes}`, nameAt);
    }
    if (this.#names.has(name)) this.#fail('ERR_GGUF_DUPLICATE_TENSOR', `Expected unique tensor names but "${name}" occurs twice`, nameAt);
    const dimsAt = this.#pos;
    const nDims = this.#u32('n_dims');
    if (nDims > MAX_TENSOR_DIMS) this.#fail('ERR_GGUF_TENSOR_DIMS', `Expected at most ${MAX_TENSOR_DIMS} dimensions for tensor "${name}" but received ${nDims}`, dimsAt);
    const ne: bigint[] = [];
    for (let j = 0; j < nDims; j++) {
      const at = this.#pos;
      const d = this.#v1 ? BigInt(this.#u32('ne')) : this.#u64('ne');
      if (d > INT64_MAX) this.#fail('ERR_GGUF_TENSOR_SHAPE', `Expected a non-negative ne[${j}] for tensor "${name}" but received ${BigInt.asIntN(64, d)}`, at);
      ne.push(d);
    }
    let elements = 1n;
    for (const d of ne) elements *= d;
    if (elements > INT64_MAX || elements > SAFE_MAX) {
      this.#fail('ERR_GGUF_TENSOR_SHAPE', `Expected a representable element count for tensor "${name}" but its shape [${ne.join(', ')}] has ${elements}`, dimsAt);
    }
    const typeAt = this.#pos;
    const type = this.#u32('tensor type');
    const info = ggmlTypeInfo(type);
    if (!info) {
      const why = type < GGML_TYPE_COUNT ? 'a type that was removed from ggml' : 'an unknown type';
      this.#fail('ERR_GGUF_TENSOR_TYPE', `Expected a known ggml type for tensor "${name}" but received ${type} (${why})`, typeAt);
    }
    const byteLength = tensorByteLengthBig(info, ne);
    if (byteLength === undefined) {
      this.#fail('ERR_GGUF_TENSOR_SHAPE', `Expected ne[0] of tensor "${name}" to be a multiple of ${info.blockSize} (${info.name} block size) but received ${ne[0]}`, dimsAt + 4);
    }
    const offsetAt = this.#pos;
    const offset = this.#u64('tensor offset');
    this.#names.add(name);
    this.#tensorBytes.push(byteLength);
    this.#tensorOffsets.push(offset);
    this.#tensorOffsetAt.push(offsetAt);
    // offset and byteLength are checked (and made exact numbers) in #finish.
    this.#tensors.push({ name, type, shape: ne.map(Number), offset: 0, byteLength: Number(byteLength) });
  }

  #finish(): GgufHeader {
    const headerByteLength = this.#pos;
    const alignment = this.#alignment;
    const pad = (x: bigint) => ((x + BigInt(alignment) - 1n) / BigInt(alignment)) * BigInt(alignment);
    const dataOffset = this.#tensors.length > 0 ? Number(pad(BigInt(headerByteLength))) : headerByteLength;
    // llama.cpp seeks to the padded data start; a file that ends before it is rejected.
    if (this.#sizeKnown && dataOffset > this.#fileSize) {
      this.#fail('ERR_GGUF_TRUNCATED', `Expected the data section to start at ${dataOffset} but the file has ${this.#fileSize} bytes`, headerByteLength);
    }
    let expected = 0n;
    for (let i = 0; i < this.#tensors.length; i++) {
      const t = this.#tensors[i] as GgufTensorInfo;
      const offset = this.#tensorOffsets[i] as bigint;
      const at = this.#tensorOffsetAt[i] as number;
      if (offset !== expected) {
        this.#fail('ERR_GGUF_TENSOR_OFFSET', `Expected offset ${expected} (the running sum of padded tensor sizes) for tensor "${t.name}" but received ${offset}`, at);
      }
      const bytes = this.#tensorBytes[i] as bigint;
      if (BigInt(dataOffset) + offset + bytes > SAFE_MAX) {
        this.#fail('ERR_GGUF_TENSOR_EXTENT', `Expected tensor "${t.name}" to end within 2^53 bytes but it ends at ${BigInt(dataOffset) + offset + bytes}`, at);
      }
      if (this.#sizeKnown && dataOffset + Number(offset) + t.byteLength > this.#fileSize) {
        this.#fail(
          'ERR_GGUF_TENSOR_EXTENT',
          `Expected tensor "${t.name}" (${t.byteLength} bytes at ${dataOffset + Number(offset)}) to lie within the file of ${this.#fileSize} bytes`,
          at,
        );
      }
      t.offset = Number(offset);
      expected = offset + pad(bytes);
    }
    return {
      version: this.#version,
      littleEndian: this.#le,
      alignment,
      metadata: this.#metadata,
      tensors: this.#tensors,
      headerByteLength,
      dataOffset,
      fileSize: this.#sizeKnown ? this.#fileSize : this.#bytes.length,
    };
  }
}

/**
 * Parses a GGUF header from `bytes`, the whole file or a prefix of it. With `fileSize` (the size of
 * the whole file) counts are checked against it and so is every tensor's extent; a prefix too short
 * for the header then fails with ERR_GGUF_PREFIX_TOO_SHORT (its `offset` is the length needed so far).
 * Without `fileSize`, `bytes` is taken as the whole file but tensor extents are not checked.
 */
export function parseGgufHeader(bytes: Uint8Array, options: { fileSize?: number; file?: string } = {}): GgufHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`Expected a Uint8Array for bytes but received ${String(bytes)} of type ${typeof bytes}`);
  }
  const { fileSize, file } = options;
  if (fileSize !== undefined && !(Number.isSafeInteger(fileSize) && fileSize >= bytes.length)) {
    throw new RangeError(`Expected an integer ≥ bytes.length for fileSize but received ${String(fileSize)} of type ${typeof fileSize}`);
  }
  try {
    return new HeaderParser(fileSize, file).parse(bytes);
  } catch (e) {
    if (e instanceof NeedMoreBytes) {
      throw new GgufError('ERR_GGUF_PREFIX_TOO_SHORT', `Expected at least ${e.end} bytes of the file to parse its header but received ${bytes.length}`, {
        offset: e.end,
        file,
      });
    }
    throw e;
  }
}

function grow(prefix: Uint8Array<ArrayBuffer>, length: number): Uint8Array<ArrayBuffer> {
  const bigger = new Uint8Array(length);
  bigger.set(prefix);
  return bigger;
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) {
    throw new TypeError(`Expected a non-empty string for path but received ${String(path)} of type ${typeof path}`);
  }
}

function shrank(path: string, size: number, at: number): GgufError {
  return new GgufError('ERR_GGUF_TRUNCATED', `Expected ${size} bytes but the file shrank while being read`, { offset: at, file: path });
}

/**
 * The plan shared by the sync and async readers: read a first chunk; if it is the whole file, parse
 * it. Otherwise walk the header in probe mode (no string decoding), growing the prefix (at least
 * doubling) whenever the walk runs out, and parse for real once the prefix holds the whole header —
 * so a large vocabulary is decoded once, not once per read.
 */
class ReadPlan {
  readonly #size: number;
  readonly #path: string;
  readonly #probe: HeaderParser;
  prefix: Uint8Array<ArrayBuffer> = new Uint8Array(0);

  constructor(path: string, size: number) {
    this.#path = path;
    this.#size = size;
    this.#probe = new HeaderParser(size, path, true);
  }

  get firstLength(): number {
    return Math.min(this.#size, FIRST_READ_BYTES);
  }

  /** Given the prefix read so far: the header, or the prefix length to read next. */
  step(): GgufHeader | number {
    if (this.prefix.length < this.#size) {
      try {
        this.#probe.parse(this.prefix);
      } catch (e) {
        if (!(e instanceof NeedMoreBytes)) throw e;
        return Math.min(this.#size, Math.max(this.prefix.length * 2, e.end));
      }
    }
    try {
      return new HeaderParser(this.#size, this.#path).parse(this.prefix);
    } catch (e) {
      // Cannot happen (the probe walked the same bytes), but never let the control-flow signal escape.
      if (!(e instanceof NeedMoreBytes)) throw e;
      return Math.min(this.#size, Math.max(this.prefix.length * 2, e.end));
    }
  }
}

/** Reads and validates the header of a GGUF file with positioned reads of a growing prefix. */
export async function readGgufHeader(path: string, options: { signal?: AbortSignal } = {}): Promise<GgufHeader> {
  checkPath(path);
  const { signal } = options;
  signal?.throwIfAborted();
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const plan = new ReadPlan(path, size);
    let wanted = plan.firstLength;
    for (;;) {
      signal?.throwIfAborted();
      let filled = plan.prefix.length;
      plan.prefix = grow(plan.prefix, wanted);
      while (filled < wanted) {
        const { bytesRead } = await handle.read(plan.prefix, filled, wanted - filled, filled);
        if (bytesRead === 0) throw shrank(path, size, filled);
        filled += bytesRead;
      }
      const next = plan.step();
      if (typeof next !== 'number') return next;
      wanted = next;
    }
  } finally {
    await handle.close();
  }
}

export function readGgufHeaderSync(path: string): GgufHeader {
  checkPath(path);
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    const plan = new ReadPlan(path, size);
    let wanted = plan.firstLength;
    for (;;) {
      let filled = plan.prefix.length;
      plan.prefix = grow(plan.prefix, wanted);
      while (filled < wanted) {
        const bytesRead = readSync(fd, plan.prefix, filled, wanted - filled, filled);
        if (bytesRead === 0) throw shrank(path, size, filled);
        filled += bytesRead;
      }
      const next = plan.step();
      if (typeof next !== 'number') return next;
      wanted = next;
    }
  } finally {
    closeSync(fd);
  }
}
