// Matrix products on the native kernels (cpp/matmul).
export { gemm, gemmSync, type GemmArgumentErrorCode, type GemmOptions, type GemmSyncOptions } from './gemm.js';
