import { readGgufHeader, readGgufHeaderSync } from './reader.js';
import { fileTypeOf, parameterCount } from './ggmlTypes.js';
import type { GgufHeader } from './types.js';

/** A GGUF header plus the figures people ask for first. */
export interface GgufInfo extends GgufHeader {
  /** Σ over tensors of the product of their dimensions. */
  parameterCount: number;
  /** llama-quantize's name of the file type (e.g. `Q4_K_M`), from general.file_type or guessed from tensor types; null when neither tells. */
  fileType: string | null;
  /** True when fileType was guessed from tensor types because general.file_type is absent. */
  fileTypeGuessed: boolean;
}

function withSummary(header: GgufHeader): GgufInfo {
  const fileType = fileTypeOf(header);
  return {
    ...header,
    parameterCount: parameterCount(header),
    fileType: fileType ? (fileType.name ?? `UNKNOWN(${fileType.id})`) : null,
    fileTypeGuessed: fileType?.guessed ?? false,
  };
}

/** Reads a GGUF file's header (positioned reads, never the tensor data). */
export async function readGguf(path: string, options?: { signal?: AbortSignal }): Promise<GgufInfo> {
  return withSummary(await readGgufHeader(path, options));
}

export function readGgufSync(path: string): GgufInfo {
  return withSummary(readGgufHeaderSync(path));
}
