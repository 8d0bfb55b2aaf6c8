// The safetensors module's public surface.
export { SafetensorsError } from './errors.js';
export { SAFETENSORS_DTYPES, dtypeSize, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.js';
export { MAX_HEADER_BYTES, MAX_TENSOR_DIMS, parseSafetensorsHeader, type SafetensorsHeader, type SafetensorsTensorInfo } from './header.js';
export { SafetensorsFile } from './file.js';
export { INDEX_FILE, SafetensorsCheckpoint, type CheckpointTensor } from './checkpoint.js';
export { dequantizeE4M3Rows, e4m3ToFloat32, type Fp8Scale } from './fp8.js';
export { serializeSafetensorsHeader, writeSafetensors, type SafetensorsTensorSpec } from './writer.js';
