import { readGgufHeader, readGgufHeaderSync } from './reader.js';
import { fileTypeName, parameterCount } from './ggmlTypes.js';
import type { GgufHeader } from './types.js';

/** A GGUF header plus the figures people ask for first. */
export interface GgufInfo extends GgufHeader {
  /** Σ over tensors of the product of their dimensions. */
  parameterCount: number;
  /** llama-quantize's name of the file type (e.g. `Q4_K_M`), from general.file_type or guessed from tensor types; null when neither tells. */
  fileType: string | null;
}

function withSummary(header: GgufHeader): GgufInfo {
  return { ...header, parameterCount: parameterCount(header), fileType: fileTypeName(header) ?? null };
}

/** Reads a GGUF file's header (positioned reads, never the tensor data). */
export async function readGguf(path: string, options?: { signal?: AbortSignal }): Promise<GgufInfo> {
  return withSummary(await readGgufHeader(path, options));
}

export function readGgufSync(path: string): GgufInfo {
  return withSummary(readGgufHeaderSync(path));
}
