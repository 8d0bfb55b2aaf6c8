// GGUF writer: byte-identical to llama.cpp's gguf_write_to_file (gguf.cpp gguf_write_out) for the
// same metadata, tensor infos and data. Files are written to a temp file beside the destination and
// renamed into place on close, so a failed or aborted write leaves nothing at the destination.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { GgufError } from './errors.js';
import { ggmlTypeInfo, tensorByteLengthBig } from './ggmlTypes.js';
import { MAX_ARRAY_ITEMS, MAX_ARRAY_NESTING, MAX_STRING_BYTES, MAX_TENSOR_DIMS, MAX_TENSOR_NAME_BYTES } from './reader.js';
import { GgufValueType } from './types.js';
import { writeAllAt } from '../pieceWrite.js';
import { WritebackPacer } from '../writeback.js';
import type { GgufArray, GgufMetadataEntry, GgufTensorInfo, GgufValue } from './types.js';

/** Writes are coalesced into buffers of this size before they reach the sink. */
export const WRITE_BUFFER_BYTES = 8 << 20;
/** Pieces at least this large bypass the buffer. */
const DIRECT_WRITE_BYTES = 1 << 20;
const DEFAULT_ALIGNMENT = 32;
const GGUF_MAGIC = [0x47, 0x47, 0x55, 0x46];

export interface GgufTensorSpec {
  name: string;
  /** ggml type id. */
  type: number;
  /** ne, innermost first. */
  shape: number[];
}

export interface GgufWriteOptions {
  /** Default: general.alignment from the metadata if present (must be a UINT32 power of two), else 32. */
  alignment?: number;
  /** Default true. Big-endian files have every header value byte-swapped; tensor data is written as given. */
  littleEndian?: boolean;
  /** Default 3. Version 1 (u32 counts and lengths, value types 0–9) is written only to reproduce old files. */
  version?: 1 | 2 | 3;
  /**
   * 'ggml' (default): n_dims as llama.cpp writes it (trailing 1-dims dropped, at least 1).
   * 'asGiven': shape.length as is, as gguf-py writes it (for byte-exact round trips of its files).
   */
  nDims?: 'ggml' | 'asGiven';
  /**
   * Default true: pad the header to the alignment even when there are no tensors, as llama.cpp's
   * writer does. gguf-py ends a tensor-less file right after the metadata; false reproduces that.
   */
  padWithoutTensors?: boolean;
}

export interface SerializedGgufHeader {
  /** Header, key-value pairs, tensor infos and the zero padding up to the data section. */
  bytes: Uint8Array;
  dataOffset: number;
  /** The tensor infos as written: shape has n_dims entries, offsets are the running sum of padded sizes. */
  tensors: GgufTensorInfo[];
  /** dataOffset + Σ tensor sizes padded to the alignment (every tensor is padded, the last one too). */
  totalSize: number;
}

/**
 * Where a GgufWriter's bytes go. `write` may not keep a reference to `bytes` after its promise
 * settles (the writer reuses its buffer).
 */
export interface GgufSink {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  if (ArrayBuffer.isView(value)) return `[${value.constructor.name} of ${(value as unknown as ArrayLike<unknown>).length}]`;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

function invalid(what: string, name: string, value: unknown, Kind: typeof TypeError | typeof RangeError = TypeError): never {
  throw new Kind(`Expected ${what} for ${name} but received ${describe(value)} of type ${typeOf(value)}`);
}

const INT_RANGE: Partial<Record<GgufValueType, readonly [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff],
  [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff],
  [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffffffff],
  [GgufValueType.INT32]: [-0x80000000, 0x7fffffff],
};
const BIGINT_RANGE: Partial<Record<GgufValueType, readonly [bigint, bigint]>> = {
  [GgufValueType.UINT64]: [0n, 2n ** 64n - 1n],
  [GgufValueType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
};
const TYPED_ARRAY: Partial<Record<GgufValueType, { ctor: Function; size: number }>> = {
  [GgufValueType.UINT8]: { ctor: Uint8Array, size: 1 },
  [GgufValueType.INT8]: { ctor: Int8Array, size: 1 },
  [GgufValueType.UINT16]: { ctor: Uint16Array, size: 2 },
  [GgufValueType.INT16]: { ctor: Int16Array, size: 2 },
  [GgufValueType.UINT32]: { ctor: Uint32Array, size: 4 },
  [GgufValueType.INT32]: { ctor: Int32Array, size: 4 },
  [GgufValueType.FLOAT32]: { ctor: Float32Array, size: 4 },
  [GgufValueType.UINT64]: { ctor: BigUint64Array, size: 8 },
  [GgufValueType.INT64]: { ctor: BigInt64Array, size: 8 },
  [GgufValueType.FLOAT64]: { ctor: Float64Array, size: 8 },
};

/** A growable little/big-endian byte builder. */
class ByteBuilder {
  #buf: Buffer = Buffer.alloc(1 << 16);
  #view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  length = 0;
  constructor(readonly le: boolean) {}

  #ensure(n: number): void {
    const need = this.length + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const bigger = Buffer.alloc(size);
    bigger.set(this.#buf.subarray(0, this.length));
    this.#buf = bigger;
    this.#view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
  }
  u8(v: number): void {
    this.#ensure(1);
    this.#view.setUint8(this.length, v);
    this.length += 1;
  }
  u32(v: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.length, v, this.le);
    this.length += 4;
  }
  u64(v: bigint | number): void {
    this.#ensure(8);
    this.#view.setBigUint64(this.length, BigInt(v), this.le);
    this.length += 8;
  }
  scalar(type: GgufValueType, v: number | bigint | boolean): void {
    const view = () => this.#view;
    const at = this.length;
    switch (type) {
      case GgufValueType.UINT8: this.#ensure(1); view().setUint8(at, v as number); this.length += 1; break;
      case GgufValueType.INT8: this.#ensure(1); view().setInt8(at, v as number); this.length += 1; break;
      case GgufValueType.UINT16: this.#ensure(2); view().setUint16(at, v as number, this.le); this.length += 2; break;
      case GgufValueType.INT16: this.#ensure(2); view().setInt16(at, v as number, this.le); this.length += 2; break;
      case GgufValueType.UINT32: this.#ensure(4); view().setUint32(at, v as number, this.le); this.length += 4; break;
      case GgufValueType.INT32: this.#ensure(4); view().setInt32(at, v as number, this.le); this.length += 4; break;
      case GgufValueType.FLOAT32: this.#ensure(4); view().setFloat32(at, v as number, this.le); this.length += 4; break;
      case GgufValueType.BOOL: this.#ensure(1); view().setUint8(at, v ? 1 : 0); this.length += 1; break;
      case GgufValueType.UINT64: this.#ensure(8); view().setBigUint64(at, BigInt(v), this.le); this.length += 8; break;
      case GgufValueType.INT64: this.#ensure(8); view().setBigInt64(at, BigInt(v), this.le); this.length += 8; break;
      case GgufValueType.FLOAT64: this.#ensure(8); view().setFloat64(at, v as number, this.le); this.length += 8; break;
      default: throw new Error(`unreachable: scalar type ${type}`);
    }
  }
  /** Raw bytes of a typed array, swapped to the file's byte order. */
  typed(items: ArrayBufferView, size: number): void {
    const src = new Uint8Array(items.buffer, items.byteOffset, items.byteLength);
    this.#ensure(src.length);
    const at = this.length;
    this.#buf.set(src, at);
    const hostLe = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
    if (size > 1 && this.le !== hostLe) {
      const dst = this.#buf;
      for (let i = at; i < at + src.length; i += size) {
        for (let j = 0; j < size >> 1; j++) {
          const a = dst[i + j] as number;
          dst[i + j] = dst[i + size - 1 - j] as number;
          dst[i + size - 1 - j] = a;
        }
      }
    }
    this.length += src.length;
  }
  string(s: string, v1: boolean): void {
    const n = Buffer.byteLength(s, 'utf8');
    if (v1) this.u32(n);
    else this.u64(n);
    this.#ensure(n);
    this.#buf.write(s, this.length, n, 'utf8');
    this.length += n;
  }
  zeros(n: number): void {
    this.#ensure(n);
    this.#buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset, this.length);
  }
}

function checkString(s: unknown, name: string): string {
  if (typeof s !== 'string') invalid('a string', name, s);
  if (Buffer.byteLength(s, 'utf8') > MAX_STRING_BYTES) invalid(`a string of at most ${MAX_STRING_BYTES} bytes`, name, s, RangeError);
  return s;
}

function checkScalar(type: GgufValueType, v: unknown, name: string, version: number): void {
  const range = INT_RANGE[type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < range[0] || v > range[1]) {
      invalid(`an integer in [${range[0]}, ${range[1]}] (${GgufValueType[type]})`, name, v, typeof v === 'number' ? RangeError : TypeError);
    }
    return;
  }
  const bigRange = BIGINT_RANGE[type];
  if (bigRange) {
    if (version === 1) invalid('a value type of GGUF v1 (0–9)', name, GgufValueType[type], RangeError);
    const ok = (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v))) && BigInt(v) >= bigRange[0] && BigInt(v) <= bigRange[1];
    if (!ok) invalid(`a bigint in [${bigRange[0]}, ${bigRange[1]}] (${GgufValueType[type]})`, name, v);
    return;
  }
  switch (type) {
    case GgufValueType.FLOAT64:
      if (version === 1) invalid('a value type of GGUF v1 (0–9)', name, 'FLOAT64', RangeError);
    // fallthrough
    case GgufValueType.FLOAT32:
      if (typeof v !== 'number') invalid(`a number (${GgufValueType[type]})`, name, v);
      return;
    case GgufValueType.BOOL:
      if (typeof v !== 'boolean') invalid('a boolean (BOOL)', name, v);
      return;
    case GgufValueType.STRING:
      checkString(v, name);
      return;
    default:
      invalid('a GgufValueType (0–12)', name, type, RangeError);
  }
}

function checkArray(a: unknown, name: string, version: number, depth: number): asserts a is GgufArray {
  if (typeof a !== 'object' || a === null || !('itemType' in a) || !('items' in a)) invalid('an array value { itemType, items }', name, a);
  if (depth > MAX_ARRAY_NESTING) invalid(`arrays nested at most ${MAX_ARRAY_NESTING} deep`, name, depth, RangeError);
  const { itemType, items } = a as GgufArray;
  const maxType = version === 1 ? GgufValueType.ARRAY : GgufValueType.FLOAT64;
  if (typeof itemType !== 'number' || !Number.isInteger(itemType) || itemType < 0 || itemType > maxType) {
    invalid(`an item type in 0..${maxType}`, `${name}.itemType`, itemType, RangeError);
  }
  const typed = TYPED_ARRAY[itemType];
  if (typed && ArrayBuffer.isView(items)) {
    if (!(items instanceof typed.ctor)) invalid(`a ${typed.ctor.name} (${GgufValueType[itemType]} items)`, `${name}.items`, items);
    if (version === 1 && typed.size === 8) invalid('a value type of GGUF v1 (0–9)', `${name}.itemType`, GgufValueType[itemType], RangeError);
  } else if (!Array.isArray(items)) {
    invalid(typed ? `a ${typed.ctor.name} or an Array` : 'an Array', `${name}.items`, items);
  } else if (itemType === GgufValueType.ARRAY) {
    for (let i = 0; i < items.length; i++) checkArray(items[i], `${name}[${i}]`, version, depth + 1);
  } else {
    for (let i = 0; i < items.length; i++) checkScalar(itemType, items[i], `${name}[${i}]`, version);
  }
  const n = (items as ArrayLike<unknown>).length;
  if (n > MAX_ARRAY_ITEMS) invalid(`at most ${MAX_ARRAY_ITEMS} items`, name, n, RangeError);
}

function writeArray(out: ByteBuilder, a: GgufArray, v1: boolean): void {
  out.u32(a.itemType);
  const items = a.items as ArrayLike<unknown>;
  if (v1) out.u32(items.length);
  else out.u64(items.length);
  const typed = TYPED_ARRAY[a.itemType];
  if (typed && ArrayBuffer.isView(a.items)) {
    out.typed(a.items, typed.size);
  } else if (a.itemType === GgufValueType.STRING) {
    for (const s of a.items as string[]) out.string(s, v1);
  } else if (a.itemType === GgufValueType.ARRAY) {
    for (const inner of a.items as GgufArray[]) writeArray(out, inner, v1);
  } else {
    for (let i = 0; i < items.length; i++) out.scalar(a.itemType, items[i] as number | bigint | boolean);
  }
}

/** llama.cpp's ggml_n_dims: 1 + the index of the last ne > 1, at least 1. */
function ggmlNDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if ((shape[i] as number) > 1) return i + 1;
  return 1;
}

function resolveAlignment(metadata: readonly GgufMetadataEntry[], requested: number | undefined): number {
  const entry = metadata.find((m) => m.key === 'general.alignment');
  if (entry) {
    const name = 'metadata "general.alignment"';
    if (entry.type !== GgufValueType.UINT32) invalid('type UINT32 (4)', `${name}.type`, entry.type, RangeError);
    const a = entry.value as number;
    if (a === 0 || (a & (a - 1)) !== 0) invalid('a power of two', name, a, RangeError);
    if (requested !== undefined && requested !== a) invalid(`the alignment given in metadata (${a})`, 'options.alignment', requested, RangeError);
    return a;
  }
  if (requested === undefined) return DEFAULT_ALIGNMENT;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested <= 0 || requested > 0x80000000 || (requested & (requested - 1)) !== 0) {
    invalid('a power of two up to 2^31', 'options.alignment', requested, typeof requested === 'number' ? RangeError : TypeError);
  }
  return requested;
}

const padTo = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * Serializes the header of a GGUF file: the metadata in the given order, the tensor infos with
 * offsets = running sum of padded sizes, and the zero padding to the data section (written even
 * with no tensors, as llama.cpp's writer does). Throws TypeError/RangeError for invalid input.
 */
export function serializeGgufHeader(metadata: GgufMetadataEntry[], tensors: GgufTensorSpec[], options: GgufWriteOptions = {}): SerializedGgufHeader {
  if (!Array.isArray(metadata)) invalid('an Array of { key, type, value }', 'metadata', metadata);
  if (!Array.isArray(tensors)) invalid('an Array of { name, type, shape }', 'tensors', tensors);
  const version = options.version ?? 3;
  if (version !== 1 && version !== 2 && version !== 3) invalid('1, 2 or 3', 'options.version', version, RangeError);
  const nDims = options.nDims ?? 'ggml';
  if (nDims !== 'ggml' && nDims !== 'asGiven') invalid("'ggml' or 'asGiven'", 'options.nDims', nDims);
  const le = options.littleEndian ?? true;
  if (typeof le !== 'boolean') invalid('a boolean', 'options.littleEndian', le);
  const v1 = version === 1;

  const keys = new Set<string>();
  metadata.forEach((entry, i) => {
    if (typeof entry !== 'object' || entry === null) invalid('an object { key, type, value }', `metadata[${i}]`, entry);
    const key = checkString(entry.key, `metadata[${i}].key`);
    if (key.length === 0) invalid('a non-empty key', `metadata[${i}].key`, key, RangeError);
    if (keys.has(key)) invalid('a key not used before', `metadata[${i}].key`, key, RangeError);
    keys.add(key);
    const name = `metadata "${key}"`;
    const maxType = v1 ? GgufValueType.ARRAY : GgufValueType.FLOAT64;
    if (typeof entry.type !== 'number' || !Number.isInteger(entry.type) || entry.type < 0 || entry.type > maxType) {
      invalid(`a value type in 0..${maxType}`, `${name}.type`, entry.type, RangeError);
    }
    if (entry.type === GgufValueType.ARRAY) checkArray(entry.value, name, version, 1);
    else checkScalar(entry.type, entry.value, name, version);
  });
  const alignment = resolveAlignment(metadata, options.alignment);

  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  let offset = 0;
  tensors.forEach((spec, i) => {
    if (typeof spec !== 'object' || spec === null) invalid('an object { name, type, shape }', `tensors[${i}]`, spec);
    const name = checkString(spec.name, `tensors[${i}].name`);
    if (Buffer.byteLength(name, 'utf8') > MAX_TENSOR_NAME_BYTES) invalid(`a name of at most ${MAX_TENSOR_NAME_BYTES} UTF-8 bytes`, `tensors[${i}].name`, name, RangeError);
    if (names.has(name)) invalid('a tensor name not used before', `tensors[${i}].name`, name, RangeError);
    names.add(name);
    const info = ggmlTypeInfo(spec.type);
    if (!info) invalid('a known, not removed ggml type id', `tensor "${name}" type`, spec.type, RangeError);
    const shape = spec.shape;
    if (!Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS) invalid(`an Array of at most ${MAX_TENSOR_DIMS} dimensions`, `tensor "${name}" shape`, shape);
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) invalid('non-negative safe integers', `tensor "${name}" shape`, d, RangeError);
    }
    const written = nDims === 'ggml' ? Array.from({ length: ggmlNDims(shape) }, (_, j) => shape[j] ?? 1) : [...shape];
    const bytes = tensorByteLengthBig(info, written.map(BigInt));
    if (bytes === undefined) invalid(`a first dimension that is a multiple of ${info.blockSize} (${info.name} block size)`, `tensor "${name}" shape`, `[${shape.join(', ')}]`, RangeError);
    if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) invalid('a tensor of at most 2^53-1 bytes', `tensor "${name}" shape`, `[${shape.join(', ')}]`, RangeError);
    if (v1 && written.some((d) => d > 0xffffffff)) invalid('dimensions below 2^32 (GGUF v1)', `tensor "${name}" shape`, `[${shape.join(', ')}]`, RangeError);
    infos.push({ name, type: spec.type, shape: written, offset, byteLength: Number(bytes) });
    offset += padTo(Number(bytes), alignment);
    if (!Number.isSafeInteger(offset)) invalid('tensors totalling at most 2^53-1 bytes', 'tensors', offset, RangeError);
  });

  const out = new ByteBuilder(le);
  for (const b of GGUF_MAGIC) out.u8(b);
  out.u32(version);
  if (v1) {
    out.u32(infos.length);
    out.u32(metadata.length);
  } else {
    out.u64(infos.length);
    out.u64(metadata.length);
  }
  for (const entry of metadata) {
    out.string(entry.key, v1);
    out.u32(entry.type);
    if (entry.type === GgufValueType.ARRAY) writeArray(out, entry.value as GgufArray, v1);
    else if (entry.type === GgufValueType.STRING) out.string(entry.value as string, v1);
    else out.scalar(entry.type, entry.value as number | bigint | boolean);
  }
  for (const info of infos) {
    out.string(info.name, v1);
    out.u32(info.shape.length);
    for (const d of info.shape) {
      if (v1) out.u32(d);
      else out.u64(d);
    }
    out.u32(info.type);
    out.u64(info.offset);
  }
  const padWithoutTensors = options.padWithoutTensors ?? true;
  if (typeof padWithoutTensors !== 'boolean') invalid('a boolean', 'options.padWithoutTensors', padWithoutTensors);
  if (tensors.length > 0 || padWithoutTensors) out.zeros(padTo(out.length, alignment) - out.length);
  const bytes = out.bytes();
  return { bytes, dataOffset: bytes.length, tensors: infos, totalSize: bytes.length + offset };
}

/** Writes to `.<name>.tmp-<random>` beside the destination; close() fsyncs and renames into place. */
class TempFileSink implements GgufSink {
  readonly #dest: string;
  readonly #temp: string;
  readonly #handle: FileHandle;
  readonly #writeback: WritebackPacer;
  #position = 0;
  #closed = false;

  private constructor(dest: string, temp: string, handle: FileHandle) {
    this.#dest = dest;
    this.#temp = temp;
    this.#handle = handle;
    this.#writeback = new WritebackPacer(handle.fd);
  }

  static async create(dest: string): Promise<TempFileSink> {
    const temp = join(dirname(dest), `.${basename(dest)}.tmp-${randomBytes(6).toString('hex')}`);
    return new TempFileSink(dest, temp, await open(temp, 'wx'));
  }

  async write(bytes: Uint8Array): Promise<void> {
    await writeAllAt(this.#handle, bytes, this.#position);
    this.#position += bytes.length;
    this.#writeback.advance(this.#position);
  }

  async close(): Promise<void> {
    await this.#writeback.settle();
    await this.#handle.sync();
    this.#closed = true;
    await this.#handle.close();
    await rename(this.#temp, this.#dest);
    // Make the rename durable too (best effort: not every platform can fsync a directory).
    try {
      const dir = await open(dirname(this.#dest), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } catch {
      /* ignored */
    }
  }

  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#writeback.settle();
      await this.#handle.close().catch(() => undefined);
    }
    await rm(this.#temp, { force: true });
  }
}

type WriterState = 'open' | 'closed' | 'aborted';

/**
 * Streams a GGUF file: the header is written at open, then the tensors' data in tensor order through
 * write() (a chunk may span tensors; padding is inserted when a tensor is complete), and close()
 * checks that every tensor got exactly its bytes before the file appears at its destination.
 */
export class GgufWriter {
  /** Tensor infos as written (shape with n_dims entries, offsets relative to the data section). */
  readonly tensors: GgufTensorInfo[];
  readonly dataOffset: number;
  readonly totalSize: number;
  readonly alignment: number;
  readonly #sink: GgufSink;
  readonly #signal: AbortSignal | undefined;
  readonly #buffer: Uint8Array;
  #fill = 0;
  #tensorIndex = 0;
  /** Bytes of tensor data still expected for the current tensor. */
  #remaining = 0;
  #dataLeft: number;
  #state: WriterState = 'open';
  #queue: Promise<void> = Promise.resolve();

  private constructor(sink: GgufSink, header: SerializedGgufHeader, alignment: number, signal: AbortSignal | undefined) {
    this.#sink = sink;
    this.tensors = header.tensors;
    this.dataOffset = header.dataOffset;
    this.totalSize = header.totalSize;
    this.alignment = alignment;
    this.#signal = signal;
    this.#dataLeft = header.tensors.reduce((sum, t) => sum + t.byteLength, 0);
    this.#buffer = new Uint8Array(Math.min(WRITE_BUFFER_BYTES, Math.max(header.totalSize, 1)));
    this.#remaining = header.tensors[0]?.byteLength ?? 0;
  }

  /** Opens a temp file beside `path` and writes the header; nothing appears at `path` before close(). */
  static async open(
    path: string,
    metadata: GgufMetadataEntry[],
    tensors: GgufTensorSpec[],
    options: GgufWriteOptions & { signal?: AbortSignal } = {},
  ): Promise<GgufWriter> {
    if (typeof path !== 'string' || path.length === 0) invalid('a non-empty string', 'path', path);
    const header = serializeGgufHeader(metadata, tensors, options);
    options.signal?.throwIfAborted();
    const sink = await TempFileSink.create(path);
    return GgufWriter.#start(sink, header, metadata, options);
  }

  /** Writes into any sink (e.g. one that hashes while it writes); the sink's close/abort are called by close()/abort(). */
  static async toSink(
    sink: GgufSink,
    metadata: GgufMetadataEntry[],
    tensors: GgufTensorSpec[],
    options: GgufWriteOptions & { signal?: AbortSignal } = {},
  ): Promise<GgufWriter> {
    const header = serializeGgufHeader(metadata, tensors, options);
    return GgufWriter.#start(sink, header, metadata, options);
  }

  static async #start(
    sink: GgufSink,
    header: SerializedGgufHeader,
    metadata: GgufMetadataEntry[],
    options: GgufWriteOptions & { signal?: AbortSignal },
  ): Promise<GgufWriter> {
    const alignment = resolveAlignment(metadata, options.alignment);
    const writer = new GgufWriter(sink, header, alignment, options.signal);
    try {
      await writer.#append(header.bytes);
      await writer.#finishEmptyTensors();
    } catch (e) {
      await writer.abort();
      throw e;
    }
    return writer;
  }

  /** Bytes of tensor data still expected in total. */
  get bytesRemaining(): number {
    return this.#dataLeft;
  }

  /** Appends tensor data in tensor order. Calls are serialized; a failed write aborts the writer. */
  write(chunk: Uint8Array): Promise<void> {
    const run = this.#queue.then(() => this.#write(chunk));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(chunk: Uint8Array): Promise<void> {
    if (!(chunk instanceof Uint8Array)) invalid('a Uint8Array', 'chunk', chunk);
    this.#checkOpen();
    await this.#checkSignal();
    if (chunk.length > this.#dataLeft) {
      throw new GgufError('ERR_GGUF_WRITE_OVERFLOW', `Expected at most ${this.#dataLeft} more bytes of tensor data but received a chunk of ${chunk.length}`, {
        offset: this.totalSize - this.#dataLeft,
      });
    }
    try {
      let done = 0;
      while (done < chunk.length) {
        const take = Math.min(this.#remaining, chunk.length - done);
        await this.#append(chunk.subarray(done, done + take));
        done += take;
        this.#remaining -= take;
        this.#dataLeft -= take;
        await this.#finishEmptyTensors();
      }
    } catch (e) {
      await this.abort();
      throw e;
    }
  }

  /** Pads every tensor that has all its bytes and moves on to the next one still expecting data. */
  async #finishEmptyTensors(): Promise<void> {
    while (this.#remaining === 0 && this.#tensorIndex < this.tensors.length) {
      const t = this.tensors[this.#tensorIndex] as GgufTensorInfo;
      await this.#appendZeros(padTo(t.byteLength, this.alignment) - t.byteLength);
      this.#tensorIndex++;
      this.#remaining = this.tensors[this.#tensorIndex]?.byteLength ?? 0;
    }
  }

  async #append(bytes: Uint8Array): Promise<void> {
    const buffer = this.#buffer;
    // Large pieces (a quantized row chunk) go to the sink as they are: copying them into the
    // buffer first would only add a pass over the bytes.
    if (bytes.length >= DIRECT_WRITE_BYTES || (this.#fill === 0 && bytes.length >= buffer.length)) {
      await this.#flush();
      await this.#sink.write(bytes);
      return;
    }
    let done = 0;
    while (done < bytes.length) {
      const take = Math.min(buffer.length - this.#fill, bytes.length - done);
      buffer.set(bytes.subarray(done, done + take), this.#fill);
      this.#fill += take;
      done += take;
      if (this.#fill === buffer.length) await this.#flush();
    }
  }

  async #appendZeros(n: number): Promise<void> {
    while (n > 0) {
      const take = Math.min(n, this.#buffer.length - this.#fill);
      this.#buffer.fill(0, this.#fill, this.#fill + take);
      this.#fill += take;
      n -= take;
      if (this.#fill === this.#buffer.length) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#fill === 0) return;
    await this.#sink.write(this.#buffer.subarray(0, this.#fill));
    this.#fill = 0;
  }

  #checkOpen(): void {
    if (this.#state !== 'open') throw new GgufError('ERR_GGUF_WRITE_CLOSED', `Expected an open writer but it was ${this.#state === 'closed' ? 'closed' : 'aborted'}`);
  }

  async #checkSignal(): Promise<void> {
    if (this.#signal?.aborted) {
      await this.abort();
      this.#signal.throwIfAborted();
    }
  }

  /**
   * Finishes the file: throws ERR_GGUF_WRITE_INCOMPLETE (and removes the temp file) unless every
   * tensor got exactly its bytes; otherwise flushes, fsyncs and renames into place.
   */
  close(): Promise<void> {
    const run = this.#queue.then(() => this.#close());
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #close(): Promise<void> {
    this.#checkOpen();
    await this.#checkSignal();
    if (this.#dataLeft > 0 || this.#tensorIndex < this.tensors.length) {
      const t = this.tensors[this.#tensorIndex] as GgufTensorInfo;
      const got = t.byteLength - this.#remaining;
      await this.abort();
      throw new GgufError(
        'ERR_GGUF_WRITE_INCOMPLETE',
        `Expected ${this.#dataLeft} more bytes of tensor data: tensor "${t.name}" got ${got} of ${t.byteLength} bytes, ${this.tensors.length - this.#tensorIndex - 1} tensors after it got none`,
        { offset: this.totalSize - this.#dataLeft },
      );
    }
    try {
      await this.#flush();
      this.#state = 'closed';
      await this.#sink.close();
    } catch (e) {
      this.#state = 'aborted';
      await this.#sink.abort().catch(() => undefined);
      throw e;
    }
  }

  /** Discards everything written (removes the temp file). Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    await this.#sink.abort();
  }

  /**
   * Runs `fill` (which writes the tensor data), then close(): the file appears whole or, when
   * anything throws (an abort included), not at all, and the error is rethrown.
   */
  async writeAndClose(fill: () => Promise<void>): Promise<void> {
    try {
      await fill();
      await this.close();
    } catch (e) {
      await this.abort();
      throw e;
    }
  }
}

/** Writes a whole GGUF file whose tensor data is in memory. */
export async function writeGguf(
  path: string,
  metadata: GgufMetadataEntry[],
  tensors: Array<GgufTensorSpec & { data: Uint8Array }>,
  options: GgufWriteOptions & { signal?: AbortSignal } = {},
): Promise<void> {
  if (!Array.isArray(tensors)) invalid('an Array of { name, type, shape, data }', 'tensors', tensors);
  const header = serializeGgufHeader(metadata, tensors, options);
  tensors.forEach((t, i) => {
    const info = header.tensors[i] as GgufTensorInfo;
    if (!(t.data instanceof Uint8Array)) invalid('a Uint8Array', `tensor "${info.name}" data`, t.data);
    if (t.data.length !== info.byteLength) invalid(`${info.byteLength} bytes`, `tensor "${info.name}" data`, `${t.data.length} bytes`, RangeError);
  });
  const writer = await GgufWriter.open(path, metadata, tensors, options);
  await writer.writeAndClose(async () => {
    for (const t of tensors) await writer.write(t.data);
  });
}
