// LoRA merge: W' = W + s·B·A with s = scale·alpha/rank (scale alone when alpha is 0), computed in
// f32 as llama.cpp applies the adapter at run time (llama-graph.cpp build_lora_mm), by the native
// GEMM in row chunks: each chunk of W is decoded to f32, gets C += s·B[rows]·A, and is encoded to
// its output type. Tensors the adapter does not touch are copied (or re-encoded when the output
// type asks). The adapter is checked against the base before the output is opened.
import { GgmlType, ggmlTypeName } from '../gguf/ggmlTypes.js';
import { MappedGguf } from '../gguf/mappedGguf.js';
import { GgufValueType, type GgufMetadataEntry, type GgufTensorInfo } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';
import { gemm } from '../matmul/gemm.js';
import { fileTypeFromName, FILE_TYPE_NAMES } from '../quantize/fileTypes.js';
import { bf16ToFp32, fp16ToFp32 } from '../quantize/halfFloat.js';
import { dequantize, quantize } from '../quantize/quantize.js';
import { chooseTensorTypes } from '../quantize/tensorTypes.js';
import { QUANT_TYPE_NAMES } from '../quantize/typeInfo.js';
import type { LoraTensorPair } from './adapterTensors.js';
import { readBaseModel } from './baseModel.js';
import type { AdapterCheckOptions } from './baseModelName.js';
import { checkPairs, openAdapter } from './check.js';
import { LoraError } from './errors.js';
import { sameFile } from '../sameFile.js';

/** Rows per chunk: about 4 Mi f32 elements of W at a time, whatever the tensor size. */
const CHUNK_ELEMENTS = 1 << 22;
const QUANTIZATION_VERSION = 2;

export interface MergeLoraProgress {
  tensor: number;
  tensors: number;
  name: string;
  type: string;
  /** Whether the adapter changes this tensor. */
  merged: boolean;
}

export interface MergeLoraOptions extends AdapterCheckOptions {
  /** The user scale (llama.cpp's --lora-scaled), default 1. */
  scale?: number;
  /**
   * Output type, a llama-quantize name (F32 F16 BF16 Q8_0 Q4_K_M …, any case): the file llama-quantize
   * would make of the merged model. Default: every tensor keeps the base's type.
   */
  outType?: string;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: MergeLoraProgress) => void;
}

export interface MergeLoraResult {
  base: string;
  adapter: string;
  output: string;
  architecture: string;
  alpha: number;
  scale: number;
  /** The output's general.file_type name, or 'base types'. */
  outType: string;
  /** Base tensors the adapter changed. */
  merged: string[];
  tensors: { name: string; type: string; shape: number[]; byteLength: number }[];
  outputBytes: number;
  seconds: number;
}

const FLOAT_TYPES = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);
const KERNEL_TYPES = new Set<number>(QUANT_TYPE_NAMES.map((n) => GgmlType[n as keyof typeof GgmlType] as number));

/** f32 values of `count` elements of `type` in `bytes`. */
function decode(bytes: Uint8Array, type: number, count: number, threads: number | undefined): Float32Array {
  if (type === GgmlType.F32) {
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  if (type === GgmlType.F16 || type === GgmlType.BF16) {
    const bits = new Uint16Array(count);
    new Uint8Array(bits.buffer).set(bytes);
    return type === GgmlType.F16 ? fp16ToFp32(bits, { threads }) : bf16ToFp32(bits, { threads });
  }
  return dequantize(type, bytes, count, { threads });
}

function rowBytes(info: GgufTensorInfo): number {
  return info.byteLength / info.shape.slice(1).reduce((a, b) => a * b, 1);
}

/** llama.cpp's adapter scale, in f32 (llama_adapter_lora_weight::get_scale). */
export function loraScale(userScale: number, alpha: number, rank: number): number {
  const f = Math.fround;
  return alpha ? f(f(f(userScale) * f(alpha)) / f(rank)) : f(userScale);
}

interface Job {
  info: GgufTensorInfo;
  /** Output type. */
  type: number;
  /** Type the merged values are rounded through first (the base's, when it is a float type). */
  stage: number;
  pair?: LoraTensorPair;
}

/**
 * Merges the adapter (GGUF LoRA file or PEFT / MLX directory) into the GGUF model `base`, writing
 * `output`. Errors (ERR_LORA_*) come before the output is opened; an abort leaves no file.
 */
export async function mergeLora(base: string, adapterPath: string, output: string, options: MergeLoraOptions = {}): Promise<MergeLoraResult> {
  const started = performance.now();
  if (typeof output !== 'string' || output.length === 0) throw new TypeError(`Expected an output path but received ${String(output)} of type ${typeof output}`);
  const userScale = options.scale ?? 1;
  if (typeof userScale !== 'number' || !Number.isFinite(userScale)) throw new RangeError(`Expected a finite number for scale but received ${String(userScale)} of type ${typeof userScale}`);
  const { signal, onProgress, threads } = options;
  signal?.throwIfAborted();
  const info = readBaseModel(base);
  if (info.kind !== 'gguf') throw new LoraError('ERR_LORA_BASE', `Merging needs a GGUF base model; ${base} is a directory`, { file: base });
  const adapter = openAdapter(adapterPath, info, options);
  try {
    checkPairs(adapter, info);
    for (const p of [base, adapterPath]) if (sameFile(p, output)) throw new LoraError('ERR_LORA_SAME_FILE', `The output ${output} is an input`, { file: output });
    let fileType: ReturnType<typeof fileTypeFromName>;
    if (options.outType !== undefined) {
      fileType = typeof options.outType === 'string' ? fileTypeFromName(options.outType) : undefined;
      if (!fileType) throw new LoraError('ERR_LORA_OUTTYPE', `Unknown output type '${String(options.outType)}': expected one of ${FILE_TYPE_NAMES.join(' ')}`);
    }
    const model = MappedGguf.open(base);
    try {
      const header = model.header;
      if (!header.littleEndian) throw new LoraError('ERR_LORA_BASE', `${base} is a big-endian GGUF`, { file: base });
      const pairs = new Map(adapter.pairs.map((p) => [p.base, p]));
      let jobs: Job[];
      let metadata: GgufMetadataEntry[] = header.metadata;
      if (fileType) {
        const choices = chooseTensorTypes(header.metadata, header.tensors, fileType);
        jobs = choices.map((c) => {
          const t = model.tensor(c.name)!;
          return { info: t, type: c.type, stage: FLOAT_TYPES.has(t.type) ? t.type : GgmlType.F32, pair: pairs.get(c.name) };
        });
        // llama_model_quantize's gguf_set_*: removed and appended, in this order.
        const setLast = (entry: GgufMetadataEntry) => {
          metadata = metadata.filter((m) => m.key !== entry.key);
          metadata.push(entry);
        };
        setLast({ key: 'general.quantization_version', type: GgufValueType.UINT32, value: QUANTIZATION_VERSION });
        setLast({ key: 'general.file_type', type: GgufValueType.UINT32, value: fileType.ftype });
      } else {
        jobs = header.tensors.map((t) => ({ info: t, type: t.type, stage: t.type, pair: pairs.get(t.name) }));
      }
      for (const j of jobs) {
        const needsKernel = j.pair !== undefined || j.type !== j.info.type;
        if (needsKernel && (!KERNEL_TYPES.has(j.info.type) || !KERNEL_TYPES.has(j.type))) {
          throw new LoraError('ERR_LORA_BASE', `${j.info.name} is ${ggmlTypeName(j.info.type)} → ${ggmlTypeName(j.type)}, which gguf-forge cannot decode or encode`, { file: base, tensor: j.info.name });
        }
      }
      const writer = await GgufWriter.open(output, metadata, jobs.map((j) => ({ name: j.info.name, type: j.type, shape: j.info.shape })), { signal });
      await writer.writeAndClose(async () => {
        for (let i = 0; i < jobs.length; i++) {
          const job = jobs[i]!;
          signal?.throwIfAborted();
          onProgress?.({ tensor: i + 1, tensors: jobs.length, name: job.info.name, type: ggmlTypeName(job.type), merged: job.pair !== undefined });
          for await (const bytes of tensorOutput(model, job, adapter.alpha, userScale, threads, signal)) await writer.write(bytes);
        }
      });
      return {
        base,
        adapter: adapterPath,
        output,
        architecture: info.arch,
        alpha: adapter.alpha,
        scale: userScale,
        outType: fileType?.name ?? 'base types',
        merged: adapter.pairs.map((p) => p.base),
        tensors: writer.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.shape, byteLength: t.byteLength })),
        outputBytes: writer.totalSize,
        seconds: (performance.now() - started) / 1000,
      };
    } finally {
      model.close();
    }
  } finally {
    adapter.close();
  }
}

async function encode(values: Float32Array, job: Job, rows: number, cols: number, threads: number | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
  let v = values;
  // Round through the base's float type first: the bytes are those of llama-quantize run on the
  // model merged in the base's own types.
  if (job.stage !== GgmlType.F32 && job.stage !== job.type) {
    v = decode(await quantize(ggmlTypeName(job.stage), v, { rows, cols, threads, signal }), job.stage, rows * cols, threads);
  }
  if (job.type === GgmlType.F32) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return quantize(ggmlTypeName(job.type), v, { rows, cols, threads, signal });
}

async function* tensorOutput(model: MappedGguf, job: Job, alpha: number, userScale: number, threads: number | undefined, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const { info, pair } = job;
  const data = model.tensorData(info);
  if (!pair && job.type === info.type) {
    yield data;
    return;
  }
  const cols = info.shape[0] ?? 1;
  const rows = info.shape.slice(1).reduce((a, b) => a * b, 1);
  const bytesPerRow = rowBytes(info);
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / cols));
  let lora: { a: Float32Array; b: Float32Array } | undefined;
  let s = 0;
  if (pair) {
    lora = await pair.read();
    s = loraScale(userScale, alpha, pair.rank);
  }
  for (let r = 0; r < rows; r += rowsPerChunk) {
    signal?.throwIfAborted();
    const n = Math.min(rowsPerChunk, rows - r);
    const w = decode(data.subarray(r * bytesPerRow, (r + n) * bytesPerRow), info.type, n * cols, threads);
    if (pair && lora) {
      const k = pair.rank;
      if (pair.embedding) {
        // token_embd: W[t, :] += s·Σ_k A[t, k]·B[:, k]; A is n_vocab × r, B is n_embd × r.
        await gemm(lora.a.subarray(r * k, (r + n) * k), lora.b, { m: n, n: cols, k, c: w, alpha: s, transB: true, threads, signal });
      } else {
        // W[o, :] += s·Σ_k B[o, k]·A[k, :]; B is n_out × r, A is r × n_in.
        await gemm(lora.b.subarray(r * k, (r + n) * k), lora.a, { m: n, n: cols, k, c: w, alpha: s, threads, signal });
      }
    }
    yield await encode(w, job, n, cols, threads, signal);
  }
}
