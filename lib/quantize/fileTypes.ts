// llama-quantize's file types (llama_ftype) that gguf-forge writes, with the tensor type each one
// defaults to (llama_ftype_get_default_type). Names are llama-quantize's, matched without case;
// `Q4_K` is Ollama's alias of Q4_K_M.
import { GgmlType, LlamaFileType } from '../gguf/ggmlTypes.js';

export const FILE_TYPE_NAMES = [
  'F32', 'F16', 'BF16', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K_S', 'Q3_K_M', 'Q3_K_L',
  'Q4_K_S', 'Q4_K_M', 'Q5_K_S', 'Q5_K_M', 'Q6_K', 'IQ4_NL', 'IQ4_XS',
] as const;

export type FileTypeName = (typeof FILE_TYPE_NAMES)[number];

export interface FileTypeInfo {
  readonly name: FileTypeName;
  /** llama_ftype, written as general.file_type. */
  readonly ftype: LlamaFileType;
  /** ggml type of every tensor the per-tensor rules leave alone. */
  readonly defaultType: GgmlType;
}

const DEFAULT_TYPE: Record<FileTypeName, GgmlType> = {
  F32: GgmlType.F32,
  F16: GgmlType.F16,
  BF16: GgmlType.BF16,
  Q4_0: GgmlType.Q4_0,
  Q4_1: GgmlType.Q4_1,
  Q5_0: GgmlType.Q5_0,
  Q5_1: GgmlType.Q5_1,
  Q8_0: GgmlType.Q8_0,
  Q2_K: GgmlType.Q2_K,
  Q3_K_S: GgmlType.Q3_K,
  Q3_K_M: GgmlType.Q3_K,
  Q3_K_L: GgmlType.Q3_K,
  Q4_K_S: GgmlType.Q4_K,
  Q4_K_M: GgmlType.Q4_K,
  Q5_K_S: GgmlType.Q5_K,
  Q5_K_M: GgmlType.Q5_K,
  Q6_K: GgmlType.Q6_K,
  IQ4_NL: GgmlType.IQ4_NL,
  IQ4_XS: GgmlType.IQ4_XS,
};

const ALIASES: Record<string, FileTypeName> = { Q4_K: 'Q4_K_M' };

const BY_NAME = new Map<string, FileTypeInfo>(
  FILE_TYPE_NAMES.map((name) => [name, Object.freeze({ name, ftype: LlamaFileType[name], defaultType: DEFAULT_TYPE[name] })]),
);

/** The file type for a llama-quantize TYPE name (any case, `Q4_K` = Q4_K_M), or undefined. */
export function fileTypeFromName(name: string): FileTypeInfo | undefined {
  const upper = name.toUpperCase();
  return BY_NAME.get(ALIASES[upper] ?? upper);
}

/** Like fileTypeFromName but throws a RangeError listing the accepted names. */
export function resolveFileType(name: unknown): FileTypeInfo {
  if (typeof name !== 'string') {
    throw new TypeError(`Expected a file type name (${FILE_TYPE_NAMES.join(' ')}) but received ${String(name)} of type ${typeof name}`);
  }
  const info = fileTypeFromName(name);
  if (!info) throw new RangeError(`Unknown file type '${name}': expected one of ${FILE_TYPE_NAMES.join(' ')} (or Q4_K for Q4_K_M)`);
  return info;
}
