// The GGUF data model shared by the reader, the writer and everything built on them.

/** Metadata value types (`gguf_type`); stored in files as a u32. */
export enum GgufValueType {
  UINT8 = 0,
  INT8,
  UINT16,
  INT16,
  UINT32,
  INT32,
  FLOAT32,
  BOOL,
  STRING,
  ARRAY,
  UINT64,
  INT64,
  FLOAT64,
}

/** Items of a metadata array: a typed array for numeric item types, plain arrays otherwise. */
export type GgufArrayItems =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | BigUint64Array
  | BigInt64Array
  | Float64Array
  | boolean[]
  | string[]
  | GgufArray[];

export interface GgufArray {
  itemType: GgufValueType;
  items: GgufArrayItems;
}

/** UINT64/INT64 scalars are bigint, the other numeric types number. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

export interface GgufMetadataEntry {
  key: string;
  type: GgufValueType;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml type id (see GgmlType). */
  type: number;
  /** ne, innermost (contiguous) dimension first; length = n_dims as stored in the file. */
  shape: number[];
  /** Byte offset of the tensor's data relative to the start of the data section. */
  offset: number;
  /** Size of the tensor's data in bytes, without padding. */
  byteLength: number;
}

export interface GgufHeader {
  version: number;
  littleEndian: boolean;
  alignment: number;
  metadata: GgufMetadataEntry[];
  tensors: GgufTensorInfo[];
  /** End of the tensor infos, before the padding that aligns the data section. */
  headerByteLength: number;
  /** Where the data section starts: headerByteLength padded to `alignment` when there are tensors (gguf_get_data_offset). */
  dataOffset: number;
  fileSize: number;
}
