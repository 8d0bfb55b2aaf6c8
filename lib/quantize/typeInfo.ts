// The tensor types the native quantizer writes and reads, named as ggml names them. The block
// layout comes from lib/gguf/ggmlTypes.ts, the one table of ggml types.
import { ggmlTypeFromName, ggmlTypeInfo } from '../gguf/ggmlTypes.js';

/** Target types of quantize() / dequantize(), in ggml id order. */
export const QUANT_TYPE_NAMES = [
  'F32',
  'F16',
  'Q4_0',
  'Q4_1',
  'Q5_0',
  'Q5_1',
  'Q8_0',
  'Q2_K',
  'Q3_K',
  'Q4_K',
  'Q5_K',
  'Q6_K',
  'IQ4_NL',
  'IQ4_XS',
  'BF16',
] as const;

export type QuantTypeName = (typeof QUANT_TYPE_NAMES)[number];

/** Element types a quantize() source may hold. */
export const SOURCE_TYPE_NAMES = ['F32', 'F16', 'BF16'] as const;
export type SourceTypeName = (typeof SOURCE_TYPE_NAMES)[number];

export interface QuantTypeInfo {
  /** ggml's name, upper case (`Q4_K`). */
  readonly name: QuantTypeName;
  /** ggml type id, as stored in GGUF tensor infos. */
  readonly id: number;
  /** Weights per block (1 for F32/F16/BF16). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** typeSize * 8 / blockSize (4.5 for Q4_K, 16 for F16). */
  readonly bitsPerWeight: number;
}

const BY_ID = new Map<number, QuantTypeInfo>();
for (const name of QUANT_TYPE_NAMES) {
  const id = ggmlTypeFromName(name);
  const layout = id === undefined ? undefined : ggmlTypeInfo(id);
  if (id === undefined || !layout) throw new Error(`ggml type table lacks ${name}`);
  BY_ID.set(id, Object.freeze({ name, id, blockSize: layout.blockSize, typeSize: layout.typeSize, bitsPerWeight: (layout.typeSize * 8) / layout.blockSize }));
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/** Resolves a type by name (case-insensitive) or ggml id; TypeError/RangeError naming `what` otherwise. */
export function resolveQuantType(type: unknown, what = 'type', allowed: readonly string[] = QUANT_TYPE_NAMES): QuantTypeInfo {
  if (typeof type !== 'string' && typeof type !== 'number') {
    throw new TypeError(`Expected a type name or ggml type id for ${what} but received ${describe(type)} of type ${typeof type}`);
  }
  const id = typeof type === 'string' ? ggmlTypeFromName(type) : type;
  const info = id === undefined ? undefined : BY_ID.get(id);
  if (!info || !allowed.includes(info.name)) {
    throw new RangeError(`Expected one of ${allowed.join(', ')} (or its ggml id) for ${what} but received ${describe(type)} of type ${typeof type}`);
  }
  return info;
}

/** Block layout and bits per weight of a quantization type, by name (`q4_k`, `IQ4_XS`) or ggml id. */
export function typeInfo(type: QuantTypeName | Lowercase<QuantTypeName> | string | number): QuantTypeInfo {
  return resolveQuantType(type);
}

/** Bytes of `rows` rows of `cols` weights of `info`; `cols` must be a whole number of blocks. */
export function quantizedByteLength(info: QuantTypeInfo, rows: number, cols: number): number {
  return rows * (cols / info.blockSize) * info.typeSize;
}
