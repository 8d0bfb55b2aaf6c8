// Public API of gguf-forge. Library code has no top-level await, so `require()` of this ESM
// module works on Node versions that support require(esm).
export { GgufValueType } from './gguf/types.js';
export type { GgufArray, GgufArrayItems, GgufHeader, GgufMetadataEntry, GgufTensorInfo, GgufValue } from './gguf/types.js';
export { GgufError } from './gguf/errors.js';
export { GgmlType, ggmlTypeInfo, ggmlTypeName, ggmlTypeFromName, tensorByteLength, fileTypeName, fileTypeOf, parameterCount, LlamaFileType } from './gguf/ggmlTypes.js';
export { parseGgufHeader, readGgufHeader, readGgufHeaderSync } from './gguf/reader.js';
export { GgufWriter, serializeGgufHeader, writeGguf } from './gguf/writer.js';
export type { GgufTensorSpec, GgufWriteOptions } from './gguf/writer.js';
export { readGguf, readGgufSync, type GgufInfo } from './gguf/ggufInfo.js';
export { MappedGguf } from './gguf/mappedGguf.js';
export { MappedFile } from './mappedFile.js';
export { fp16ToFp32, fp32ToFp16, bf16ToFp32, fp32ToBf16, type ConvertOptions } from './quantize/halfFloat.js';
export { quantize, quantizeSync, dequantize } from './quantize/quantize.js';
export type { QuantTypeArg, QuantizeSource, QuantizeOptions, QuantizeSyncOptions, DequantizeOptions } from './quantize/quantize.js';
export { typeInfo, QUANT_TYPE_NAMES, type QuantTypeInfo, type QuantTypeName } from './quantize/typeInfo.js';
export { NativeLoadError, loadNative, nativeAvailable } from './native.js';
export { runtimeInfo, type RuntimeInfo } from './runtimeInfo.js';
export { inspectJson, float32ToShortest } from './gguf/ggufJson.js';
export { packageVersion as version } from './version.js';
export { quantizeModel, parseTensorTypeOption } from './quantize/quantizeModel.js';
export type { QuantizeModelOptions, QuantizeModelProgress, QuantizeModelResult, QuantizedTensor } from './quantize/quantizeModel.js';
export { QuantizeModelError } from './quantize/errors.js';
export { FILE_TYPE_NAMES, fileTypeFromName, type FileTypeInfo, type FileTypeName } from './quantize/fileTypes.js';
export { chooseTensorTypes, quantizeOrder, type TensorTypeChoice, type TensorTypeOptions } from './quantize/tensorTypes.js';
export { readImatrix, ImatrixError, type Imatrix } from './quantize/imatrix.js';
export { writeSyntheticLlama, type SyntheticLlamaOptions } from './synthetic/llamaModel.js';
