// llama.cpp's own llama_model_quantize (libllama from @node-llama-cpp/linux-x64, through koffi): the
// reference for whole-model quantization. The params struct is filled from
// llama_model_quantize_default_params() and only the fields below are changed, by offset, so
// fields this build adds after them keep their defaults. The imatrix and kv_overrides arrays are
// built the way tools/quantize/quantize.cpp builds them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadGgmlBase, referenceUnavailableReason } from './ggmlLibrary.js';
import type { Imatrix } from '../../lib/quantize/imatrix.js';

export interface LlamaQuantizeParams {
  /** llama_ftype. */
  ftype: number;
  threads?: number;
  outputTensorType?: number;
  tokenEmbeddingType?: number;
  allowRequantize?: boolean;
  leaveOutputTensor?: boolean;
  pure?: boolean;
  imatrix?: Imatrix;
  /** [pattern, ggml type] in order; patterns as llama-quantize stores them (lower-cased). */
  tensorTypes?: [string, number][];
}

export interface LlamaQuantize {
  /** Returns llama_model_quantize's status (0 = success). */
  quantize(input: string, output: string, params: LlamaQuantizeParams): number;
  /** The same on a worker thread (so the caller's event loop keeps running, e.g. to sample memory). */
  quantizeAsync(input: string, output: string, params: LlamaQuantizeParams, done: (err: unknown, status: number) => void): void;
}

const GGML_TYPE_COUNT = 43;
// struct llama_model_quantize_params (include/llama.h) offsets on x86-64.
const OFF = { nthread: 0, ftype: 4, outputType: 8, embdType: 12, allowRequantize: 16, quantizeOutput: 17, pure: 19, imatrix: 24, kvOverrides: 32, ttOverrides: 40 };
const PARAMS_BYTES = 64;
// struct llama_model_kv_override: int tag; char key[128]; union { int64; double; bool; char[128] }.
const KV_BYTES = 264;
const KV_VALUE = 136;
const KV_TAG_INT = 0;
const KV_TAG_STR = 3;

let cached: LlamaQuantize | null | undefined;
let reason = '';

export function llamaQuantizeUnavailableReason(): string {
  return reason || referenceUnavailableReason();
}

/** Null when libllama cannot be loaded (see llamaQuantizeUnavailableReason()). */
export function loadLlamaQuantize(): LlamaQuantize | null {
  if (cached !== undefined) return cached;
  const base = loadGgmlBase();
  if (!base) return (cached = null);
  const path = join(base.path, '..', 'libllama.v0.5.0.so');
  if (!existsSync(path)) {
    reason = `${path} is missing`;
    return (cached = null);
  }
  const { koffi } = base;
  const lib = koffi.load(path);
  const Params = koffi.struct('gguf_forge_llama_quantize_params', { bytes: koffi.array('uint8_t', PARAMS_BYTES) });
  const defaults = lib.func('llama_model_quantize_default_params', Params, []) as () => { bytes: number[] };
  const runFn = lib.func('uint32_t llama_model_quantize(const char *inp, const char *out, const void *params)');
  const run = runFn as (a: string, b: string, p: Buffer) => number;
  const runAsync = (runFn as unknown as { async: (a: string, b: string, p: Buffer, cb: (err: unknown, status: number) => void) => void }).async;
  const LogCallback = koffi.proto('void gguf_forge_llama_log(int level, const char *text, void *ud)');
  const logSet = lib.func('void llama_log_set(void *cb, void *ud)') as (cb: unknown, ud: null) => void;
  // Keep the tests' output clean: llama.cpp logs every tensor.
  const silent = koffi.register(() => {}, koffi.pointer(LogCallback));
  logSet(silent, null);
  (lib.func('void llama_backend_init(void)') as () => void)();

  // Native memory that must outlive one call: freed right after it.
  const allocations: unknown[] = [];
  const alloc = (bytes: Uint8Array): bigint => {
    const p = koffi.alloc('uint8_t', Math.max(bytes.length, 1));
    koffi.encode(p, koffi.array('uint8_t', Math.max(bytes.length, 1)), Array.from(bytes.length ? bytes : [0]));
    allocations.push(p);
    return koffi.address(p) as bigint;
  };
  const cString = (s: string) => alloc(Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]));

  /** Builds the params struct; the native arrays it points to live until release(). */
  const build = (p: LlamaQuantizeParams): Buffer => {
    const params = Buffer.from(defaults().bytes);
    params.writeInt32LE(p.threads ?? 1, OFF.nthread);
    params.writeInt32LE(p.ftype, OFF.ftype);
    params.writeInt32LE(p.outputTensorType ?? GGML_TYPE_COUNT, OFF.outputType);
    params.writeInt32LE(p.tokenEmbeddingType ?? GGML_TYPE_COUNT, OFF.embdType);
    params.writeUInt8(p.allowRequantize ? 1 : 0, OFF.allowRequantize);
    params.writeUInt8(p.leaveOutputTensor ? 0 : 1, OFF.quantizeOutput);
    params.writeUInt8(p.pure ? 1 : 0, OFF.pure);
    {
      const kv: Buffer[] = [];
      if (p.imatrix && p.imatrix.entries.size > 0) {
        const m = p.imatrix;
        const table = Buffer.alloc(24 * (m.entries.size + 1));
        let i = 0;
        for (const [name, values] of m.entries) {
          table.writeBigUInt64LE(cString(name), 24 * i);
          table.writeBigUInt64LE(alloc(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)), 24 * i + 8);
          table.writeBigUInt64LE(BigInt(values.length), 24 * i + 16);
          i++;
        }
        params.writeBigUInt64LE(alloc(table), OFF.imatrix);
        const entry = (key: string, tag: number, fill: (b: Buffer) => void) => {
          const b = Buffer.alloc(KV_BYTES);
          b.writeInt32LE(tag, 0);
          b.write(key, 4, 'utf8');
          fill(b);
          kv.push(b);
        };
        const str = (s: string) => (b: Buffer) => Buffer.from(s, 'utf8').subarray(0, 127).copy(b, KV_VALUE);
        entry('quantize.imatrix.file', KV_TAG_STR, str(m.file));
        if (m.datasets.length > 0) entry('quantize.imatrix.dataset', KV_TAG_STR, str(m.datasets[0] as string));
        entry('quantize.imatrix.entries_count', KV_TAG_INT, (b) => b.writeBigInt64LE(BigInt(m.entries.size), KV_VALUE));
        if (m.chunkCount > 0) entry('quantize.imatrix.chunks_count', KV_TAG_INT, (b) => b.writeBigInt64LE(BigInt(m.chunkCount), KV_VALUE));
      }
      if (kv.length > 0) params.writeBigUInt64LE(alloc(Buffer.concat([...kv, Buffer.alloc(KV_BYTES)])), OFF.kvOverrides);
      if (p.tensorTypes && p.tensorTypes.length > 0) {
        const table = Buffer.alloc(16 * (p.tensorTypes.length + 1));
        p.tensorTypes.forEach(([pattern, type], i) => {
          table.writeBigUInt64LE(cString(pattern), 16 * i);
          table.writeInt32LE(type, 16 * i + 8);
        });
        table.writeInt32LE(GGML_TYPE_COUNT, 16 * p.tensorTypes.length + 8);
        params.writeBigUInt64LE(alloc(table), OFF.ttOverrides);
      }
    }
    return params;
  };
  const release = () => {
    for (const a of allocations.splice(0)) koffi.free(a);
  };
  cached = {
    quantize(input, output, p) {
      try {
        return run(input, output, build(p));
      } finally {
        release();
      }
    },
    quantizeAsync(input, output, p, done) {
      let params: Buffer;
      try {
        params = build(p);
      } catch (e) {
        release();
        done(e, -1);
        return;
      }
      runAsync(input, output, params, (err, status) => {
        params.fill(0); // keeps the struct referenced until llama.cpp is done with it
        release();
        done(err, status);
      });
    },
  };
  return cached;
}
