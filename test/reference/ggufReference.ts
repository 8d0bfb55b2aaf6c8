// llama.cpp's own GGUF reader and writer (gguf.cpp in the shipped libggml-base.so), called through
// koffi, dumped into / driven from plain JS values. Tests compare gguf-forge's reader and writer
// with these. This module does not import lib/: its types are small look-alikes of lib/gguf's.
//
// Several gguf_* functions GGML_ABORT (kill the process) on misuse, so everything handed to the
// writer is checked here first and rejected with a JS error instead.
import type { LibraryHandle } from 'koffi';
import { loadGgmlBase, type ReferenceLibrary } from './ggmlLibrary.js';

/** gguf_type ids (gguf.h `enum gguf_type`); same numbering as lib/gguf's GgufValueType. */
export const RefGgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

export type RefNumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

/** An array value in the gguf-forge API's shape: `{ itemType, items }`. */
export interface RefArrayValue {
  itemType: number;
  // Nested arrays (item type ARRAY) are part of the shape only: llama.cpp cannot write them and validation rejects them.
  items: RefNumericArray | ArrayLike<number> | ArrayLike<bigint> | readonly boolean[] | readonly string[] | readonly RefArrayValue[];
}

export type RefScalar = number | bigint | boolean | string;

/** One metadata entry as read by llama.cpp. For arrays `type` is 9, `itemType` is set and `value`
 * holds the items: a typed array for numeric item types (BigInt64/BigUint64 for 64-bit ints),
 * boolean[] for BOOL and string[] for STRING. */
export interface RefMetadataEntry {
  key: string;
  type: number;
  value: RefScalar | RefNumericArray | boolean[] | string[];
  itemType?: number;
}

export interface RefTensorInfo {
  name: string;
  type: number;
  /** gguf_get_tensor_ne: always 4 entries, 1 beyond n_dims. */
  ne: [number, number, number, number];
  /** Offset relative to the data section. */
  offset: number;
  /** ggml_nbytes of the tensor (unpadded). */
  size: number;
}

export interface RefGguf {
  version: number;
  alignment: number;
  /** gguf_get_data_offset: padded to the alignment only when the file has tensors. */
  dataOffset: number;
  metadata: RefMetadataEntry[];
  tensors: RefTensorInfo[];
}

/** Spec for the reference writer, in the gguf-forge API's shapes. */
export interface RefWriteMetadataEntry {
  key: string;
  type: number;
  value: RefScalar | RefArrayValue;
}

export interface RefWriteTensor {
  name: string;
  type: number;
  /** ggml order (ne[0] first), 1 to 4 entries. */
  shape: readonly (number | bigint)[];
  data: Uint8Array;
}

export interface RefWriteSpec {
  metadata: readonly RefWriteMetadataEntry[];
  tensors: readonly RefWriteTensor[];
}

const ALIGNMENT_KEY = 'general.alignment';

// Element size in bytes of each gguf_type (STRING and ARRAY have none).
const GGUF_TYPE_SIZE: Record<number, number> = {
  0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8,
};

type Ptr = unknown;

interface Api {
  ref: ReferenceLibrary;
  koffi: ReferenceLibrary['koffi'];
  ggufInitFromFile: (path: string, params: { no_alloc: boolean; ctx: null }) => Ptr;
  ggufInitFromBuffer: (data: Uint8Array, size: number, params: { no_alloc: boolean; ctx: null }) => Ptr;
  ggufInitEmpty: () => Ptr;
  ggufFree: (ctx: Ptr) => void;
  getVersion: (ctx: Ptr) => number;
  getAlignment: (ctx: Ptr) => number | bigint;
  getDataOffset: (ctx: Ptr) => number | bigint;
  getNKv: (ctx: Ptr) => number | bigint;
  getKey: (ctx: Ptr, id: number) => Ptr;
  getKvType: (ctx: Ptr, id: number) => number;
  getArrType: (ctx: Ptr, id: number) => number;
  getValData: (ctx: Ptr, id: number) => Ptr;
  getValStr: (ctx: Ptr, id: number) => Ptr;
  getArrN: (ctx: Ptr, id: number) => number | bigint;
  getArrData: (ctx: Ptr, id: number) => Ptr;
  getArrStr: (ctx: Ptr, id: number, i: number) => Ptr;
  getArrStrFast: (ctx: Ptr, id: number, i: number) => string;
  getNTensors: (ctx: Ptr) => number | bigint;
  getTensorName: (ctx: Ptr, id: number) => Ptr;
  getTensorNe: (ctx: Ptr, id: number) => Ptr;
  getTensorType: (ctx: Ptr, id: number) => number;
  getTensorOffset: (ctx: Ptr, id: number) => number | bigint;
  getTensorSize: (ctx: Ptr, id: number) => number | bigint;
  removeKey: (ctx: Ptr, key: string) => number | bigint;
  setVal: Record<number, (ctx: Ptr, key: string, v: unknown) => void>;
  setValStr: (ctx: Ptr, key: string, v: Uint8Array) => void;
  setArrData: (ctx: Ptr, key: string, type: number, data: Uint8Array, n: number) => void;
  setArrStr: (ctx: Ptr, key: string, data: BigUint64Array, n: number) => void;
  addTensor: (ctx: Ptr, tensor: Ptr) => void;
  setTensorData: (ctx: Ptr, name: string, data: Ptr) => void;
  writeToFile: (ctx: Ptr, path: string, onlyMeta: boolean) => boolean;
  getMetaSize: (ctx: Ptr) => number | bigint;
  ggmlInit: (params: { mem_size: number; mem_buffer: null; no_alloc: boolean }) => Ptr;
  ggmlFree: (ctx: Ptr) => void;
  ggmlNewTensor: (ctx: Ptr, type: number, nDims: number, ne: BigInt64Array) => Ptr;
  ggmlSetName: (tensor: Ptr, name: Uint8Array) => Ptr;
  ggmlTensorOverhead: () => number | bigint;
  ggmlBlckSize: (type: number) => number | bigint;
  ggmlTypeSize: (type: number) => number | bigint;
  strlen: (p: Ptr) => number | bigint;
}

let api: Api | null | undefined;

function bind(ref: ReferenceLibrary): Api {
  const { koffi } = ref;
  const lib: LibraryHandle = ref.lib;
  const libc: LibraryHandle = koffi.load('libc.so.6');
  // Both structs are passed by value.
  const ggufInitParams = koffi.struct('gguf_forge_gguf_init_params', { no_alloc: 'bool', ctx: 'void *' });
  const ggmlInitParams = koffi.struct('gguf_forge_ggml_init_params', {
    mem_size: 'size_t',
    mem_buffer: 'void *',
    no_alloc: 'bool',
  });
  type Fn = (...args: never[]) => unknown;
  const f = <T extends Fn>(sig: string | [string, string, unknown[]]): T =>
    (typeof sig === 'string' ? lib.func(sig) : lib.func(sig[0], sig[1], sig[2] as never)) as unknown as T;
  const setter = (name: string, ctype: string) => f<(ctx: Ptr, key: string, v: unknown) => void>(`void ${name}(void *ctx, const char *key, ${ctype} val)`);
  return {
    ref,
    koffi,
    ggufInitFromFile: f(['gguf_init_from_file', 'void *', ['const char *', ggufInitParams]]),
    ggufInitFromBuffer: f(['gguf_init_from_buffer', 'void *', ['const void *', 'size_t', ggufInitParams]]),
    ggufInitEmpty: f('void *gguf_init_empty(void)'),
    ggufFree: f('void gguf_free(void *ctx)'),
    getVersion: f('uint32_t gguf_get_version(void *ctx)'),
    getAlignment: f('size_t gguf_get_alignment(void *ctx)'),
    getDataOffset: f('size_t gguf_get_data_offset(void *ctx)'),
    getNKv: f('int64_t gguf_get_n_kv(void *ctx)'),
    getKey: f('const void *gguf_get_key(void *ctx, int64_t id)'),
    getKvType: f('int gguf_get_kv_type(void *ctx, int64_t id)'),
    getArrType: f('int gguf_get_arr_type(void *ctx, int64_t id)'),
    getValData: f('const void *gguf_get_val_data(void *ctx, int64_t id)'),
    getValStr: f('const void *gguf_get_val_str(void *ctx, int64_t id)'),
    getArrN: f('size_t gguf_get_arr_n(void *ctx, int64_t id)'),
    getArrData: f('const void *gguf_get_arr_data(void *ctx, int64_t id)'),
    getArrStr: f('const void *gguf_get_arr_str(void *ctx, int64_t id, size_t i)'),
    // koffi decodes the returned char* itself, which is ~10x faster than strlen + view + TextDecoder.
    getArrStrFast: f('const char *gguf_get_arr_str(void *ctx, int64_t id, size_t i)'),
    getNTensors: f('int64_t gguf_get_n_tensors(void *ctx)'),
    getTensorName: f('const void *gguf_get_tensor_name(void *ctx, int64_t id)'),
    getTensorNe: f('const void *gguf_get_tensor_ne(void *ctx, int64_t id)'),
    getTensorType: f('int gguf_get_tensor_type(void *ctx, int64_t id)'),
    getTensorOffset: f('size_t gguf_get_tensor_offset(void *ctx, int64_t id)'),
    getTensorSize: f('size_t gguf_get_tensor_size(void *ctx, int64_t id)'),
    removeKey: f('int64_t gguf_remove_key(void *ctx, const char *key)'),
    setVal: {
      [RefGgufType.UINT8]: setter('gguf_set_val_u8', 'uint8_t'),
      [RefGgufType.INT8]: setter('gguf_set_val_i8', 'int8_t'),
      [RefGgufType.UINT16]: setter('gguf_set_val_u16', 'uint16_t'),
      [RefGgufType.INT16]: setter('gguf_set_val_i16', 'int16_t'),
      [RefGgufType.UINT32]: setter('gguf_set_val_u32', 'uint32_t'),
      [RefGgufType.INT32]: setter('gguf_set_val_i32', 'int32_t'),
      [RefGgufType.FLOAT32]: setter('gguf_set_val_f32', 'float'),
      [RefGgufType.BOOL]: setter('gguf_set_val_bool', 'bool'),
      [RefGgufType.UINT64]: setter('gguf_set_val_u64', 'uint64_t'),
      [RefGgufType.INT64]: setter('gguf_set_val_i64', 'int64_t'),
      [RefGgufType.FLOAT64]: setter('gguf_set_val_f64', 'double'),
    },
    // The string value goes in as NUL-terminated bytes so no JS string conversion is involved.
    setValStr: f('void gguf_set_val_str(void *ctx, const char *key, const void *val)'),
    setArrData: f('void gguf_set_arr_data(void *ctx, const char *key, int type, const void *data, size_t n)'),
    setArrStr: f('void gguf_set_arr_str(void *ctx, const char *key, const void *data, size_t n)'),
    addTensor: f('void gguf_add_tensor(void *ctx, const void *tensor)'),
    setTensorData: f('void gguf_set_tensor_data(void *ctx, const char *name, const void *data)'),
    writeToFile: f('bool gguf_write_to_file(void *ctx, const char *fname, bool only_meta)'),
    getMetaSize: f('size_t gguf_get_meta_size(void *ctx)'),
    ggmlInit: f(['ggml_init', 'void *', [ggmlInitParams]]),
    ggmlFree: f('void ggml_free(void *ctx)'),
    ggmlNewTensor: f('void *ggml_new_tensor(void *ctx, int type, int n_dims, const int64_t *ne)'),
    ggmlSetName: f('void *ggml_set_name(void *tensor, const void *name)'),
    ggmlTensorOverhead: f('size_t ggml_tensor_overhead(void)'),
    ggmlBlckSize: f('int64_t ggml_blck_size(int type)'),
    ggmlTypeSize: f('size_t ggml_type_size(int type)'),
    strlen: libc.func('size_t strlen(const void *s)') as unknown as (p: Ptr) => number | bigint,
  };
}

function getApi(): Api | null {
  if (api !== undefined) return api;
  const ref = loadGgmlBase();
  api = ref ? bind(ref) : null;
  return api;
}

function mustApi(): Api {
  const a = getApi();
  if (!a) throw new Error('llama.cpp reference library is unavailable');
  return a;
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** Copies `len` bytes of native memory at `ptr`. */
function copyBytes(a: Api, ptr: Ptr, len: number): Uint8Array {
  if (len === 0) return new Uint8Array(0);
  return new Uint8Array(a.koffi.view(ptr, len).slice(0));
}

function cString(a: Api, ptr: Ptr): string {
  const len = Number(a.strlen(ptr));
  if (len === 0) return '';
  return utf8.decode(new Uint8Array(a.koffi.view(ptr, len)));
}

function typedArrayFor(itemType: number, bytes: Uint8Array): RefNumericArray {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  switch (itemType) {
    case RefGgufType.UINT8: return new Uint8Array(buf);
    case RefGgufType.INT8: return new Int8Array(buf);
    case RefGgufType.UINT16: return new Uint16Array(buf);
    case RefGgufType.INT16: return new Int16Array(buf);
    case RefGgufType.UINT32: return new Uint32Array(buf);
    case RefGgufType.INT32: return new Int32Array(buf);
    case RefGgufType.FLOAT32: return new Float32Array(buf);
    case RefGgufType.UINT64: return new BigUint64Array(buf);
    case RefGgufType.INT64: return new BigInt64Array(buf);
    case RefGgufType.FLOAT64: return new Float64Array(buf);
    default: throw new Error(`not a numeric gguf_type: ${itemType}`);
  }
}

function scalarFrom(type: number, bytes: Uint8Array): RefScalar {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case RefGgufType.UINT8: return dv.getUint8(0);
    case RefGgufType.INT8: return dv.getInt8(0);
    case RefGgufType.UINT16: return dv.getUint16(0, true);
    case RefGgufType.INT16: return dv.getInt16(0, true);
    case RefGgufType.UINT32: return dv.getUint32(0, true);
    case RefGgufType.INT32: return dv.getInt32(0, true);
    case RefGgufType.FLOAT32: return dv.getFloat32(0, true);
    case RefGgufType.BOOL: return dv.getUint8(0) !== 0;
    case RefGgufType.UINT64: return dv.getBigUint64(0, true);
    case RefGgufType.INT64: return dv.getBigInt64(0, true);
    case RefGgufType.FLOAT64: return dv.getFloat64(0, true);
    default: throw new Error(`not a scalar gguf_type: ${type}`);
  }
}

/** True when llama.cpp's libggml-base could be loaded (see referenceUnavailableReason()). */
export function ggufReferenceAvailable(): boolean {
  return getApi() !== null;
}

/** Version string of the loaded ggml (e.g. "0.25.1"). */
export function referenceGgmlVersion(): string {
  return mustApi().ref.version;
}

/** Reads `path` with llama.cpp's gguf_init_from_file (no_alloc=true, ctx=NULL). Returns null when
 * llama.cpp rejects the file (it logs the reason to stderr). Float values keep their exact bits:
 * FLOAT32 scalars are read from the raw bytes, arrays are typed arrays over copied bytes. */
export function referenceReadGguf(path: string): RefGguf | null {
  const a = mustApi();
  const ctx = a.ggufInitFromFile(path, { no_alloc: true, ctx: null });
  if (ctx === null) return null;
  try {
    return dumpContext(a, ctx);
  } finally {
    a.ggufFree(ctx);
  }
}

/** Same as referenceReadGguf but from bytes in memory (gguf_init_from_buffer). */
export function referenceReadGgufBuffer(bytes: Uint8Array): RefGguf | null {
  const a = mustApi();
  const ctx = a.ggufInitFromBuffer(bytes, bytes.byteLength, { no_alloc: true, ctx: null });
  if (ctx === null) return null;
  try {
    return dumpContext(a, ctx);
  } finally {
    a.ggufFree(ctx);
  }
}

function dumpContext(a: Api, ctx: Ptr): RefGguf {
  const metadata: RefMetadataEntry[] = [];
  const nKv = Number(a.getNKv(ctx));
  for (let i = 0; i < nKv; i++) {
    const key = cString(a, a.getKey(ctx, i));
    const type = a.getKvType(ctx, i);
    if (type === RefGgufType.ARRAY) {
      const itemType = a.getArrType(ctx, i);
      const n = Number(a.getArrN(ctx, i));
      let value: RefNumericArray | boolean[] | string[];
      if (itemType === RefGgufType.STRING) {
        const items = new Array<string>(n);
        for (let j = 0; j < n; j++) {
          const fast = a.getArrStrFast(ctx, i, j);
          // Invalid UTF-8 became U+FFFD: decode the raw bytes with TextDecoder (the WHATWG rules) instead.
          items[j] = fast.includes('\uFFFD') ? cString(a, a.getArrStr(ctx, i, j)) : fast;
        }
        value = items;
      } else {
        const size = GGUF_TYPE_SIZE[itemType];
        if (size === undefined) throw new Error(`llama.cpp returned array item type ${itemType} for ${key}`);
        const bytes = n === 0 ? new Uint8Array(0) : copyBytes(a, a.getArrData(ctx, i), n * size);
        value = itemType === RefGgufType.BOOL ? Array.from(bytes, (b) => b !== 0) : typedArrayFor(itemType, bytes);
      }
      metadata.push({ key, type, value, itemType });
    } else if (type === RefGgufType.STRING) {
      metadata.push({ key, type, value: cString(a, a.getValStr(ctx, i)) });
    } else {
      const size = GGUF_TYPE_SIZE[type];
      if (size === undefined) throw new Error(`llama.cpp returned type ${type} for ${key}`);
      metadata.push({ key, type, value: scalarFrom(type, copyBytes(a, a.getValData(ctx, i), size)) });
    }
  }
  const tensors: RefTensorInfo[] = [];
  const nTensors = Number(a.getNTensors(ctx));
  for (let i = 0; i < nTensors; i++) {
    const neBytes = copyBytes(a, a.getTensorNe(ctx, i), 32);
    const ne64 = new BigInt64Array(neBytes.buffer, neBytes.byteOffset, 4);
    tensors.push({
      name: cString(a, a.getTensorName(ctx, i)),
      type: a.getTensorType(ctx, i),
      ne: [Number(ne64[0]), Number(ne64[1]), Number(ne64[2]), Number(ne64[3])],
      offset: Number(a.getTensorOffset(ctx, i)),
      size: Number(a.getTensorSize(ctx, i)),
    });
  }
  return {
    version: a.getVersion(ctx),
    alignment: Number(a.getAlignment(ctx)),
    dataOffset: Number(a.getDataOffset(ctx)),
    metadata,
    tensors,
  };
}

// ---------------------------------------------------------------------------------------------
// Writer

function isArrayValue(v: unknown): v is RefArrayValue {
  return typeof v === 'object' && v !== null && 'itemType' in v && 'items' in v;
}

function cBytes(s: string): Uint8Array {
  const enc = utf8Encoder.encode(s);
  if (enc.includes(0)) throw new Error(`string contains NUL, which the C API cannot carry: ${JSON.stringify(s)}`);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

function numericItemsToBytes(itemType: number, items: RefArrayValue['items']): Uint8Array {
  const size = GGUF_TYPE_SIZE[itemType];
  if (size === undefined || itemType === RefGgufType.BOOL) throw new Error(`not a numeric item type: ${itemType}`);
  const n = items.length;
  const out = new Uint8Array(n * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const v = (items as ArrayLike<number | bigint>)[i] as number | bigint;
    const o = i * size;
    switch (itemType) {
      case RefGgufType.UINT8: dv.setUint8(o, Number(v)); break;
      case RefGgufType.INT8: dv.setInt8(o, Number(v)); break;
      case RefGgufType.UINT16: dv.setUint16(o, Number(v), true); break;
      case RefGgufType.INT16: dv.setInt16(o, Number(v), true); break;
      case RefGgufType.UINT32: dv.setUint32(o, Number(v), true); break;
      case RefGgufType.INT32: dv.setInt32(o, Number(v), true); break;
      case RefGgufType.FLOAT32: dv.setFloat32(o, Number(v), true); break;
      case RefGgufType.UINT64: dv.setBigUint64(o, BigInt(v), true); break;
      case RefGgufType.INT64: dv.setBigInt64(o, BigInt(v), true); break;
      case RefGgufType.FLOAT64: dv.setFloat64(o, Number(v), true); break;
    }
  }
  // Float32Array items keep their exact bits (NaN payloads) by copying the bytes directly.
  if (itemType === RefGgufType.FLOAT32 && items instanceof Float32Array) {
    return new Uint8Array(items.buffer.slice(items.byteOffset, items.byteOffset + items.byteLength) as ArrayBuffer);
  }
  if (itemType === RefGgufType.FLOAT64 && items instanceof Float64Array) {
    return new Uint8Array(items.buffer.slice(items.byteOffset, items.byteOffset + items.byteLength) as ArrayBuffer);
  }
  return out;
}

/** The bytes llama.cpp parses into a context whose alignment is `alignment`: llama.cpp's
 * gguf_init_empty() context always pads with 32 (setting general.alignment with gguf_set_val_u32
 * does not change ctx->alignment), so a context with another alignment has to come from a reader. */
function alignmentSeed(alignment: number): Uint8Array {
  const key = utf8Encoder.encode(ALIGNMENT_KEY);
  const out = new Uint8Array(4 + 4 + 8 + 8 + 8 + key.length + 4 + 4);
  const dv = new DataView(out.buffer);
  out.set([0x47, 0x47, 0x55, 0x46], 0);
  dv.setUint32(4, 3, true);
  dv.setBigUint64(8, 0n, true);
  dv.setBigUint64(16, 1n, true);
  dv.setBigUint64(24, BigInt(key.length), true);
  out.set(key, 32);
  dv.setUint32(32 + key.length, RefGgufType.UINT32, true);
  dv.setUint32(36 + key.length, alignment, true);
  return out;
}

export interface RefWriteOptions {
  /** How general.alignment (when present in the metadata) reaches llama.cpp's writer:
   * 'honour' (default) starts from a context parsed from a one-key GGUF so that ctx->alignment is
   * the key's value (what llama.cpp writes when it re-writes a file it read, e.g. gguf-split);
   * 'asLlamaCpp' uses gguf_init_empty() like llama-quantize, which keeps padding with 32. */
  alignment?: 'honour' | 'asLlamaCpp';
  /** Only write the header (gguf_write_to_file's only_meta). */
  onlyMeta?: boolean;
}

function validateSpec(a: Api, spec: RefWriteSpec): number | undefined {
  let alignment: number | undefined;
  for (const e of spec.metadata) {
    if (e.key.length === 0) throw new Error('llama.cpp aborts on an empty key');
    cBytes(e.key);
    if (e.key === ALIGNMENT_KEY) {
      if (e.type !== RefGgufType.UINT32 || typeof e.value !== 'number') throw new Error('llama.cpp aborts unless general.alignment is a u32 scalar');
      if (e.value <= 0 || (e.value & (e.value - 1)) !== 0) throw new Error('llama.cpp aborts unless general.alignment is a power of 2');
      alignment = e.value;
    }
    if (e.type === RefGgufType.ARRAY) {
      if (!isArrayValue(e.value)) throw new Error(`${e.key}: ARRAY entry needs { itemType, items }`);
      if (e.value.itemType === RefGgufType.ARRAY || GGUF_TYPE_SIZE[e.value.itemType] === undefined && e.value.itemType !== RefGgufType.STRING) {
        throw new Error(`${e.key}: llama.cpp cannot write array item type ${e.value.itemType}`);
      }
    } else if (e.type !== RefGgufType.STRING && GGUF_TYPE_SIZE[e.type] === undefined) {
      throw new Error(`${e.key}: invalid gguf_type ${e.type}`);
    }
  }
  const names = new Set<string>();
  for (const t of spec.tensors) {
    const nameBytes = cBytes(t.name);
    if (nameBytes.length - 1 >= 64) throw new Error(`tensor name longer than 63 bytes: ${t.name}`);
    if (names.has(t.name)) throw new Error(`llama.cpp aborts on a duplicate tensor name: ${t.name}`);
    names.add(t.name);
    if (t.shape.length < 1 || t.shape.length > 4) throw new Error(`${t.name}: ggml tensors have 1 to 4 dims`);
    // Types 0..39 exist in every ggml this is used with; blck_size 0 marks removed types.
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 39) throw new Error(`${t.name}: unsupported ggml type ${t.type}`);
    const blck = Number(a.ggmlBlckSize(t.type));
    if (blck === 0) throw new Error(`${t.name}: ggml type ${t.type} was removed`);
    const ne = t.shape.map(Number);
    if (ne.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new Error(`${t.name}: bad shape`);
    if ((ne[0] ?? 0) % blck !== 0) throw new Error(`${t.name}: ne[0] not a multiple of the block size ${blck}`);
    const nbytes = ((ne[0] ?? 0) / blck) * Number(a.ggmlTypeSize(t.type)) * ne.slice(1).reduce((x, y) => x * y, 1);
    if (t.data.byteLength !== nbytes) throw new Error(`${t.name}: data is ${t.data.byteLength} bytes, ggml_nbytes is ${nbytes}`);
  }
  return alignment;
}

/** Writes `spec` with llama.cpp's writer: a gguf context filled with gguf_set_val_* /
 * gguf_set_arr_data / gguf_set_arr_str in the given order, then ggml tensors (ggml_new_tensor +
 * ggml_set_name + gguf_add_tensor + gguf_set_tensor_data), then gguf_write_to_file. Throws (instead of
 * letting llama.cpp abort the process) on specs it would abort on. */
export function referenceWriteGguf(path: string, spec: RefWriteSpec, options: RefWriteOptions = {}): void {
  const a = mustApi();
  const alignment = validateSpec(a, spec);
  const k = a.koffi;

  let ctx: Ptr;
  if (alignment !== undefined && (options.alignment ?? 'honour') === 'honour') {
    const seed = alignmentSeed(alignment);
    ctx = a.ggufInitFromBuffer(seed, seed.byteLength, { no_alloc: true, ctx: null });
    if (ctx === null) throw new Error('llama.cpp rejected the alignment seed');
    a.removeKey(ctx, ALIGNMENT_KEY);
  } else {
    ctx = a.ggufInitEmpty();
  }
  let gctx: Ptr = null;
  const natives: unknown[] = [];
  try {
    for (const e of spec.metadata) {
      if (e.type === RefGgufType.STRING) {
        if (typeof e.value !== 'string') throw new Error(`${e.key}: STRING entry needs a string`);
        a.setValStr(ctx, e.key, cBytes(e.value));
      } else if (e.type === RefGgufType.ARRAY) {
        const arr = e.value as RefArrayValue;
        const n = arr.items.length;
        if (arr.itemType === RefGgufType.STRING) {
          // One native block holds every string NUL-terminated; the char* array points into it.
          const parts = (arr.items as readonly string[]).map(cBytes);
          const total = parts.reduce((s, b) => s + b.length, 0);
          const block = k.alloc('uint8_t', Math.max(total, 1));
          natives.push(block);
          const base = k.address(block);
          const ptrs = new BigUint64Array(Math.max(n, 1));
          if (total > 0) {
            const view = new Uint8Array(k.view(block, total));
            let off = 0;
            for (let i = 0; i < n; i++) {
              const b = parts[i] as Uint8Array;
              view.set(b, off);
              ptrs[i] = base + BigInt(off);
              off += b.length;
            }
          }
          a.setArrStr(ctx, e.key, ptrs, n);
        } else if (arr.itemType === RefGgufType.BOOL) {
          const bytes = Uint8Array.from(arr.items as readonly boolean[], (b) => (b ? 1 : 0));
          a.setArrData(ctx, e.key, RefGgufType.BOOL, bytes, n);
        } else {
          a.setArrData(ctx, e.key, arr.itemType, numericItemsToBytes(arr.itemType, arr.items), n);
        }
      } else {
        const set = a.setVal[e.type];
        if (!set) throw new Error(`${e.key}: invalid gguf_type ${e.type}`);
        if (e.type === RefGgufType.FLOAT32 || e.type === RefGgufType.FLOAT64) {
          // koffi converts number -> float with a C cast: round to nearest like Math.fround
          // (NaN payloads are not carried; specs here use no NaNs).
          set(ctx, e.key, Number(e.value));
        } else if (e.type === RefGgufType.UINT64 || e.type === RefGgufType.INT64) {
          set(ctx, e.key, BigInt(e.value as number | bigint));
        } else if (e.type === RefGgufType.BOOL) {
          set(ctx, e.key, Boolean(e.value));
        } else {
          set(ctx, e.key, Number(e.value));
        }
      }
    }

    if (spec.tensors.length > 0) {
      const overhead = Number(a.ggmlTensorOverhead());
      gctx = a.ggmlInit({ mem_size: (spec.tensors.length + 1) * overhead, mem_buffer: null, no_alloc: true });
      if (gctx === null) throw new Error('ggml_init failed');
      for (const t of spec.tensors) {
        const ne = BigInt64Array.from(t.shape, (d) => BigInt(d));
        const tensor = a.ggmlNewTensor(gctx, t.type, ne.length, ne);
        if (tensor === null) throw new Error(`ggml_new_tensor failed for ${t.name}`);
        a.ggmlSetName(tensor, cBytes(t.name));
        a.addTensor(ctx, tensor);
        const len = t.data.byteLength;
        const p = k.alloc('uint8_t', Math.max(len, 1));
        natives.push(p);
        if (len > 0) new Uint8Array(k.view(p, len)).set(t.data);
        a.setTensorData(ctx, t.name, p);
      }
    }
    if (!a.writeToFile(ctx, path, options.onlyMeta ?? false)) throw new Error(`gguf_write_to_file failed for ${path}`);
  } finally {
    a.ggufFree(ctx);
    if (gctx !== null) a.ggmlFree(gctx);
    for (const p of natives) k.free(p);
  }
}

/** Turns a reference dump back into a writer spec (for re-writing a file with llama.cpp's writer).
 * Tensor data comes from `tensorData(tensor)`; shapes are ne cut to the tensor's dims (trailing 1s
 * beyond the first are dropped, which is what ggml's n_dims rule writes anyway). */
export function specFromRefGguf(ref: RefGguf, tensorData: (t: RefTensorInfo) => Uint8Array): RefWriteSpec {
  const metadata: RefWriteMetadataEntry[] = ref.metadata.map((e) =>
    e.type === RefGgufType.ARRAY
      ? { key: e.key, type: e.type, value: { itemType: e.itemType ?? -1, items: e.value as RefArrayValue['items'] } }
      : { key: e.key, type: e.type, value: e.value as RefScalar },
  );
  const tensors: RefWriteTensor[] = ref.tensors.map((t) => {
    let nd = 4;
    while (nd > 1 && t.ne[nd - 1] === 1) nd--;
    return { name: t.name, type: t.type, shape: t.ne.slice(0, nd), data: tensorData(t) };
  });
  return { metadata, tensors };
}
