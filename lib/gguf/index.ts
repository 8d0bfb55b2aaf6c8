// The GGUF module's public surface.
export { GgufValueType } from './types.js';
export type { GgufArray, GgufArrayItems, GgufHeader, GgufMetadataEntry, GgufTensorInfo, GgufValue } from './types.js';
export { GgufError } from './errors.js';
export {
  GgmlType,
  GGML_TYPE_COUNT,
  ggmlTypeInfo,
  ggmlTypeName,
  ggmlTypeFromName,
  tensorByteLength,
  LlamaFileType,
  LLAMA_FTYPE_GUESSED,
  llamaFileTypeName,
  llamaFileTypeFromName,
  fileTypeOf,
  fileTypeName,
  parameterCount,
} from './ggmlTypes.js';
export type { GgmlTypeInfo, FileTypeOf } from './ggmlTypes.js';
export {
  parseGgufHeader,
  readGgufHeader,
  readGgufHeaderSync,
  MAX_STRING_BYTES,
  MAX_ARRAY_ITEMS,
  MAX_ARRAY_NESTING,
  MAX_TENSOR_NAME_BYTES,
  MAX_TENSOR_DIMS,
} from './reader.js';
export { GgufWriter, serializeGgufHeader, writeGguf } from './writer.js';
export type { GgufSink, GgufTensorSpec, GgufWriteOptions, SerializedGgufHeader } from './writer.js';
export { readGguf, readGgufSync, type GgufInfo } from './ggufInfo.js';
export { MappedGguf } from './mappedGguf.js';
