// ggml tensor types (ggml.h `enum ggml_type`) and llama.cpp file types (llama.h `enum llama_ftype`).
import type { GgufHeader } from './types.js';
import { GgufValueType } from './types.js';

export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q4_2 = 4, // removed
  Q4_3 = 5, // removed
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  Q4_0_4_4 = 31, // removed (runtime repacking instead)
  Q4_0_4_8 = 32, // removed
  Q4_0_8_8 = 33, // removed
  TQ1_0 = 34,
  TQ2_0 = 35,
  IQ4_NL_4_4 = 36, // removed
  IQ4_NL_4_8 = 37, // removed
  IQ4_NL_8_8 = 38, // removed
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
  Q2_0 = 42,
}

/** GGML_TYPE_COUNT of the ggml this table mirrors (ggml-org/ggml d99724f). */
export const GGML_TYPE_COUNT = 43;

export interface GgmlTypeInfo {
  id: number;
  name: string;
  /** Elements per block (1 for plain types). */
  blockSize: number;
  /** Bytes per block. */
  typeSize: number;
}

// [blockSize, typeSize] per id; [0, 0] marks a removed type (ggml's blck_size == 0).
const BLOCK_LAYOUT: ReadonlyArray<readonly [number, number]> = [
  [1, 4], [1, 2], [32, 18], [32, 20], [0, 0], [0, 0], [32, 22], [32, 24], [32, 34], [32, 36],
  [256, 84], [256, 110], [256, 144], [256, 176], [256, 210], [256, 292], [256, 66], [256, 74], [256, 98], [256, 50],
  [32, 18], [256, 110], [256, 82], [256, 136], [1, 1], [1, 2], [1, 4], [1, 8], [1, 8], [256, 56],
  [1, 2], [0, 0], [0, 0], [0, 0], [256, 54], [256, 66], [0, 0], [0, 0], [0, 0], [32, 17],
  [64, 36], [128, 18], [64, 18],
];

const TYPE_INFO: ReadonlyArray<GgmlTypeInfo | undefined> = BLOCK_LAYOUT.map(([blockSize, typeSize], id) =>
  blockSize === 0 ? undefined : Object.freeze({ id, name: GgmlType[id] as string, blockSize, typeSize }),
);

/** Block layout of a ggml type; undefined for removed or unknown ids (files using them are invalid). */
export function ggmlTypeInfo(id: number): GgmlTypeInfo | undefined {
  return Number.isInteger(id) ? TYPE_INFO[id] : undefined;
}

/** gguf-py's name of a type id (`Q4_K`, `BF16`); removed ids keep their old name, unknown ones read `UNKNOWN(<id>)`. */
export function ggmlTypeName(id: number): string {
  const name = Number.isInteger(id) && id >= 0 && id < GGML_TYPE_COUNT ? (GgmlType[id] as string | undefined) : undefined;
  return name ?? `UNKNOWN(${id})`;
}

/** Type id for a name such as `q4_k` or `Q8_0` (case-insensitive); undefined for unknown or removed names. */
export function ggmlTypeFromName(name: string): GgmlType | undefined {
  const upper = name.toUpperCase();
  for (const info of TYPE_INFO) if (info && info.name === upper) return info.id;
  return undefined;
}

/**
 * ggml_nbytes of a contiguous tensor: ne[0]/blockSize * typeSize * ne[1] * ne[2] * ne[3].
 * Throws RangeError for removed/unknown types, a row length that is not a multiple of the block
 * size, or a size beyond Number.MAX_SAFE_INTEGER.
 */
export function tensorByteLength(type: number, shape: readonly number[]): number {
  const info = ggmlTypeInfo(type);
  if (!info) throw new RangeError(`Expected a known ggml type id for type but received ${String(type)} of type ${typeof type}`);
  const bytes = tensorByteLengthBig(info, shape.map((n) => BigInt(n)));
  if (bytes === undefined) {
    throw new RangeError(
      `Expected a first dimension that is a multiple of ${info.blockSize} (${info.name} block size) for shape but received [${shape.join(', ')}] of type object`,
    );
  }
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`Expected a tensor of at most 2^53-1 bytes for shape but received [${shape.join(', ')}] of type object`);
  }
  return Number(bytes);
}

/** Exact byte length, or undefined when ne[0] is not a multiple of the block size. */
export function tensorByteLengthBig(info: GgmlTypeInfo, shape: readonly bigint[]): bigint | undefined {
  const ne0 = shape[0] ?? 1n;
  const block = BigInt(info.blockSize);
  if (ne0 % block !== 0n) return undefined;
  let bytes = (ne0 / block) * BigInt(info.typeSize);
  for (let i = 1; i < shape.length; i++) bytes *= shape[i] as bigint;
  return bytes;
}

/** llama.h `enum llama_ftype`, named as llama-quantize names them on its command line. */
export enum LlamaFileType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q4_1_SOME_F16 = 4, // retired
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q2_K = 10,
  Q3_K_S = 11,
  Q3_K_M = 12,
  Q3_K_L = 13,
  Q4_K_S = 14,
  Q4_K_M = 15,
  Q5_K_S = 16,
  Q5_K_M = 17,
  Q6_K = 18,
  IQ2_XXS = 19,
  IQ2_XS = 20,
  Q2_K_S = 21,
  IQ3_XS = 22,
  IQ3_XXS = 23,
  IQ1_S = 24,
  IQ4_NL = 25,
  IQ3_S = 26,
  IQ3_M = 27,
  IQ2_S = 28,
  IQ2_M = 29,
  IQ4_XS = 30,
  IQ1_M = 31,
  BF16 = 32,
  TQ1_0 = 36,
  TQ2_0 = 37,
  MXFP4_MOE = 38,
  NVFP4 = 39,
  Q1_0 = 40,
  Q2_0 = 41,
}

/** LLAMA_FTYPE_GUESSED: or'ed into the file type when it was inferred from tensor types. */
export const LLAMA_FTYPE_GUESSED = 1024;

/** Name of a llama_ftype id (`Q4_K_M`); undefined for unknown ids. */
export function llamaFileTypeName(id: number): string | undefined {
  return Number.isInteger(id) ? (LlamaFileType[id] as string | undefined) : undefined;
}

/** llama_ftype id for a llama-quantize TYPE name (case-insensitive, `q4_K_M` as in Ollama's docs). */
export function llamaFileTypeFromName(name: string): LlamaFileType | undefined {
  const value = (LlamaFileType as unknown as Record<string, unknown>)[name.toUpperCase()];
  return typeof value === 'number' ? value : undefined;
}

// llama-model-loader.cpp: the tensor type that occurs most often decides the guessed file type.
const GUESS_FROM_TYPE: ReadonlyMap<number, LlamaFileType> = new Map([
  [GgmlType.F32, LlamaFileType.F32],
  [GgmlType.F16, LlamaFileType.F16],
  [GgmlType.BF16, LlamaFileType.BF16],
  [GgmlType.Q4_0, LlamaFileType.Q4_0],
  [GgmlType.Q4_1, LlamaFileType.Q4_1],
  [GgmlType.Q5_0, LlamaFileType.Q5_0],
  [GgmlType.Q5_1, LlamaFileType.Q5_1],
  [GgmlType.Q8_0, LlamaFileType.Q8_0],
  [GgmlType.Q2_K, LlamaFileType.Q2_K],
  [GgmlType.Q3_K, LlamaFileType.Q3_K_M],
  [GgmlType.Q4_K, LlamaFileType.Q4_K_M],
  [GgmlType.Q5_K, LlamaFileType.Q5_K_M],
  [GgmlType.Q6_K, LlamaFileType.Q6_K],
  [GgmlType.TQ1_0, LlamaFileType.TQ1_0],
  [GgmlType.TQ2_0, LlamaFileType.TQ2_0],
  [GgmlType.IQ2_XXS, LlamaFileType.IQ2_XXS],
  [GgmlType.IQ2_XS, LlamaFileType.IQ2_XS],
  [GgmlType.IQ2_S, LlamaFileType.IQ2_S],
  [GgmlType.IQ3_XXS, LlamaFileType.IQ3_XXS],
  [GgmlType.IQ1_S, LlamaFileType.IQ1_S],
  [GgmlType.IQ1_M, LlamaFileType.IQ1_M],
  [GgmlType.IQ4_NL, LlamaFileType.IQ4_NL],
  [GgmlType.IQ4_XS, LlamaFileType.IQ4_XS],
  [GgmlType.IQ3_S, LlamaFileType.IQ3_S],
  [GgmlType.MXFP4, LlamaFileType.MXFP4_MOE],
  [GgmlType.NVFP4, LlamaFileType.NVFP4],
  [GgmlType.Q1_0, LlamaFileType.Q1_0],
  [GgmlType.Q2_0, LlamaFileType.Q2_0],
]);

export interface FileTypeOf {
  id: number;
  name: string | undefined;
  guessed: boolean;
}

/**
 * The file type as llama.cpp reports it: `general.file_type` when present, else guessed from the
 * tensor type that occurs most often (counted over tensors in name order, first to reach the maximum
 * wins, as llama-model-loader iterates its std::map), with LLAMA_FTYPE_GUESSED semantics. Undefined
 * for a file with neither (e.g. vocab-only files).
 */
export function fileTypeOf(header: Pick<GgufHeader, 'metadata' | 'tensors'>): FileTypeOf | undefined {
  const entry = header.metadata.find((m) => m.key === 'general.file_type');
  if (entry && entry.type !== GgufValueType.ARRAY && (typeof entry.value === 'number' || typeof entry.value === 'bigint')) {
    const id = Number(entry.value);
    return { id, name: llamaFileTypeName(id), guessed: false };
  }
  if (header.tensors.length === 0) return undefined;
  const names = header.tensors.map((t) => t.name);
  const typeByName = new Map(header.tensors.map((t) => [t.name, t.type]));
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const counts = new Map<number, number>();
  let maxCount = 0;
  let maxType: number = GgmlType.F32;
  for (const name of names) {
    const type = typeByName.get(name) as number;
    const count = (counts.get(type) ?? 0) + 1;
    counts.set(type, count);
    if (count > maxCount) {
      maxCount = count;
      maxType = type;
    }
  }
  const id = GUESS_FROM_TYPE.get(maxType) ?? LlamaFileType.F32;
  return { id, name: llamaFileTypeName(id), guessed: true };
}

/** `Q4_K_M`, or `Q4_K_M (guessed)` when inferred from tensor types (llama_model_ftype_name's convention). */
export function fileTypeName(header: Pick<GgufHeader, 'metadata' | 'tensors'>): string | undefined {
  const ft = fileTypeOf(header);
  if (!ft) return undefined;
  const name = ft.name ?? `UNKNOWN(${ft.id})`;
  return ft.guessed ? `${name} (guessed)` : name;
}

/** Σ over tensors of the product of their dimensions (exact up to 2^53; summed as bigint, so no intermediate overflow). */
export function parameterCount(header: Pick<GgufHeader, 'tensors'>): number {
  let total = 0n;
  for (const t of header.tensors) {
    let n = 1n;
    for (const d of t.shape) n *= BigInt(d);
    total += n;
  }
  return Number(total);
}
