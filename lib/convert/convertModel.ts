// Hugging Face safetensors model directory → GGUF, as llama.cpp's convert_hf_to_gguf.py writes it
// (same keys in the same order, same tensor names, order, types and bytes), streamed tensor by
// tensor in row chunks. An output type that is a llama-quantize file type (Q4_K_M, …) gives, in one
// pass and without an F16 file, the bytes `convert --outtype f16` followed by llama-quantize give.
import { join } from 'node:path';
import { GgmlType, ggmlTypeName, LlamaFileType } from '../gguf/ggmlTypes.js';
import { GgufValueType } from '../gguf/types.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';
import { fileTypeFromName, type FileTypeInfo } from '../quantize/fileTypes.js';
import { chooseTensorTypes } from '../quantize/tensorTypes.js';
import { SafetensorsCheckpoint } from '../safetensors/checkpoint.js';
import { converterFor } from './architectures.js';
import { ConvertError } from './errors.js';
import { readModelConfig } from './hparams.js';
import { KvBuilder } from './kv.js';
import { forcedF32, type ConversionPlan, type PlannedTensor } from './model.js';
import { addNaming, modelNaming, parameterCounts } from './naming.js';
import { BufferPool, encodeChunk, rowsCols, sourceChunks, type Chunk } from './tensorData.js';
import { readJsonObject } from './tokenizer/hfFiles.js';
import { sameFile } from '../sameFile.js';

/** llama.cpp's GGML_QNT_VERSION. */
const QUANTIZATION_VERSION = 2;

/** convert_hf_to_gguf --outtype values (any case); anything else must be a llama-quantize file type. */
export const CONVERT_OUT_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'auto'] as const;

export interface ConvertProgress {
  /** 1-based index of the tensor being written, in output order. */
  tensor: number;
  tensors: number;
  name: string;
  type: string;
  bytesWritten: number;
  bytesTotal: number;
}

export interface ConvertModelOptions {
  /**
   * f32 | f16 (default) | bf16 | q8_0 | auto, as convert_hf_to_gguf.py --outtype; or a llama-quantize
   * file type (Q4_K_M, Q6_K, IQ4_XS, …) for the file `--outtype f16` then llama-quantize would give.
   */
  outType?: string;
  /** general.name instead of the one guessed from the directory (--model-name). */
  name?: string;
  /** tokenizer.ggml.pre for a BPE tokenizer whose pre-tokenizer llama.cpp's hash table does not know. */
  preTokenizer?: string;
  /** Threads for the kernels (default: the native pool size). The bytes never depend on it. */
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ConvertProgress) => void;
}

export interface ConvertedTensor {
  name: string;
  /** ggml type name. */
  type: string;
  /** ne, innermost first (GGUF order). */
  shape: number[];
  byteLength: number;
}

export interface ConvertModelResult {
  input: string;
  output: string;
  /** config.json architectures[0]. */
  hfArchitecture: string;
  /** general.architecture. */
  architecture: string;
  outType: string;
  /** general.file_type (llama_ftype). */
  fileType: number;
  tensors: ConvertedTensor[];
  metadata: GgufMetadataEntry[];
  outputBytes: number;
  seconds: number;
}

interface OutTypeChoice {
  label: string;
  /** general.file_type of the convert step. */
  convertFtype: number;
  /** Element type of every tensor not kept in F32 by the convert step. */
  convertType: GgmlType;
  /** Set when the output is quantized as llama-quantize would quantize the F16 file. */
  fileType?: FileTypeInfo;
}

function resolveOutType(requested: string | undefined, tensors: PlannedTensor[]): OutTypeChoice {
  const value = requested ?? 'f16';
  if (typeof value !== 'string') throw new TypeError(`Expected a string for outType but received ${String(value)} of type ${typeof value}`);
  switch (value.toLowerCase()) {
    case 'f32':
      return { label: 'f32', convertFtype: LlamaFileType.F32, convertType: GgmlType.F32 };
    case 'f16':
      return { label: 'f16', convertFtype: LlamaFileType.F16, convertType: GgmlType.F16 };
    case 'bf16':
      return { label: 'bf16', convertFtype: LlamaFileType.BF16, convertType: GgmlType.BF16 };
    case 'q8_0':
      return { label: 'q8_0', convertFtype: LlamaFileType.Q8_0, convertType: GgmlType.Q8_0 };
    case 'auto': {
      // The first tensor of 2+ dimensions that is BF16 or F16 decides; otherwise F16.
      for (const t of tensors) {
        const dtype = t.sources[0]?.tensor.dtype;
        if (!dtype || (t.sources[0]?.tensor.shape.length ?? 0) < 2) continue;
        if (dtype === 'BF16') return { label: 'bf16', convertFtype: LlamaFileType.BF16, convertType: GgmlType.BF16 };
        if (dtype === 'F16') return { label: 'f16', convertFtype: LlamaFileType.F16, convertType: GgmlType.F16 };
      }
      return { label: 'f16', convertFtype: LlamaFileType.F16, convertType: GgmlType.F16 };
    }
  }
  const fileType = fileTypeFromName(value);
  if (!fileType) {
    throw new ConvertError('ERR_CONVERT_OUTTYPE', `Unknown output type '${value}': expected f32, f16, bf16, q8_0, auto or a file type (Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL IQ4_XS)`);
  }
  return { label: fileType.name, convertFtype: LlamaFileType.F16, convertType: GgmlType.F16, fileType };
}

/** The type prepare_tensors writes a tensor as. */
function convertTypeOf(t: PlannedTensor, choice: OutTypeChoice): GgmlType {
  if (forcedF32(t.name, t.shape)) return GgmlType.F32;
  // gguf-py cannot write Q8_0 rows that are not whole blocks: it falls back to F16.
  if (choice.convertType === GgmlType.Q8_0 && rowsCols(t.shape)[1] % 32 !== 0) return GgmlType.F16;
  return choice.convertType;
}

interface WriteJob {
  tensor: PlannedTensor;
  /** ne, innermost first. */
  ne: number[];
  /** Type the convert step gives it. */
  stageType: GgmlType;
  /** Type written. */
  type: GgmlType;
}

export interface ConversionPlanResult {
  hfArchitecture: string;
  plan: ConversionPlan;
  outType: OutTypeChoice;
  metadata: GgufMetadataEntry[];
  jobs: WriteJob[];
  checkpoint: SafetensorsCheckpoint;
}

/** Everything but the tensor data: architecture, metadata, tensor order and types. The caller closes `checkpoint`. */
export function planConversion(dir: string, options: ConvertModelOptions = {}): ConversionPlanResult {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`Expected a model directory but received ${String(dir)} of type ${typeof dir}`);
  const config = readModelConfig(dir);
  const archs = config.architectures;
  const hfArchitecture = Array.isArray(archs) ? archs[0] : undefined;
  const converter = converterFor(hfArchitecture, join(dir, 'config.json'));
  const checkpoint = SafetensorsCheckpoint.open(dir);
  try {
    const plan = converter.plan({ dir, config, hparams: config, checkpoint, vocabOptions: { preTokenizer: options.preTokenizer } });
    const outType = resolveOutType(options.outType, plan.tensors);
    const names = new Set<string>();
    for (const t of plan.tensors) {
      if (names.has(t.name)) throw new ConvertError('ERR_CONVERT_TENSOR', `Duplicated tensor name ${JSON.stringify(t.name)}`, { tensor: t.hfName });
      names.add(t.name);
    }

    const kv = new KvBuilder();
    kv.string('general.architecture', plan.arch);
    plan.earlyKv?.(kv);
    kv.string('general.type', 'model');
    let generationConfig: Record<string, unknown> | undefined;
    try {
      generationConfig = readJsonObject(dir, 'generation_config.json');
    } catch {
      generationConfig = undefined; // the converter ignores an unreadable generation_config.json
    }
    addNaming(kv, modelNaming(dir, config, generationConfig, parameterCounts(plan.tensors), options.name));
    plan.parameters(kv, outType.convertFtype);
    kv.uint32('general.quantization_version', QUANTIZATION_VERSION);
    plan.vocab(kv);
    let metadata = kv.entries();

    let jobs: WriteJob[] = plan.tensors.map((tensor) => {
      const stageType = convertTypeOf(tensor, outType);
      return { tensor, ne: [...tensor.shape].reverse(), stageType, type: stageType };
    });
    if (outType.fileType) {
      const ft = outType.fileType;
      const byName = new Map(jobs.map((j) => [j.tensor.name, j]));
      const choices = chooseTensorTypes(metadata, jobs.map((j) => ({ name: j.tensor.name, type: j.stageType, shape: j.ne })), ft);
      jobs = choices.map((c) => ({ ...byName.get(c.name)!, type: c.type }));
      // llama_model_quantize sets both keys with gguf_set_*: removed and appended, in this order.
      const setLast = (entry: GgufMetadataEntry) => {
        metadata = metadata.filter((m) => m.key !== entry.key);
        metadata.push(entry);
      };
      setLast({ key: 'general.quantization_version', type: GgufValueType.UINT32, value: QUANTIZATION_VERSION });
      setLast({ key: 'general.file_type', type: GgufValueType.UINT32, value: ft.ftype });
    }
    return { hfArchitecture: hfArchitecture as string, plan, outType, metadata, jobs, checkpoint };
  } catch (e) {
    checkpoint.close();
    throw e;
  }
}

/** Runs `source` one item ahead: the next item is being produced while the caller uses the current one. */
async function* prefetch<T>(source: AsyncGenerator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    while (true) {
      const r = await next;
      if (r.done) return;
      next = source.next();
      yield r.value;
    }
  } finally {
    // The consumer stopped early (an error or an abort): let the item in flight settle quietly.
    next.catch(() => undefined);
    await source.return(undefined).catch(() => undefined);
  }
}

interface IndexedChunk {
  job: number;
  chunk: Chunk;
}

async function* readChunks(jobs: WriteJob[], signal: AbortSignal | undefined): AsyncGenerator<IndexedChunk> {
  const pool = new BufferPool();
  for (let job = 0; job < jobs.length; job++) {
    for await (const chunk of sourceChunks(jobs[job]!.tensor, signal, pool)) yield { job, chunk };
  }
}

async function* encodeChunks(source: AsyncGenerator<IndexedChunk>, jobs: WriteJob[], threads: number | undefined, signal: AbortSignal | undefined): AsyncGenerator<IndexedChunk> {
  const pool = new BufferPool();
  for await (const { job, chunk } of source) {
    const j = jobs[job]!;
    let c = await encodeChunk(chunk, j.stageType, threads, signal, pool);
    if (j.type !== j.stageType) c = await encodeChunk(c, j.type, threads, signal, pool);
    yield { job, chunk: c };
  }
}

/**
 * Every job's bytes in order, in three overlapping stages: chunk i is written while chunk i+1 is
 * converted and chunk i+2 is read.
 */
function pipeline(jobs: WriteJob[], threads: number | undefined, signal: AbortSignal | undefined): AsyncGenerator<IndexedChunk> {
  return prefetch(encodeChunks(prefetch(readChunks(jobs, signal)), jobs, threads, signal));
}

/**
 * Converts the Hugging Face model in `dir` (config.json, *.safetensors, tokenizer files) to a GGUF
 * file at `output`. The architecture and every tokenizer file are checked before anything is
 * written; the file appears at `output` only when complete (an abort leaves nothing).
 */
export async function convertModel(dir: string, output: string, options: ConvertModelOptions = {}): Promise<ConvertModelResult> {
  const started = performance.now();
  if (typeof output !== 'string' || output.length === 0) throw new TypeError(`Expected an output path but received ${String(output)} of type ${typeof output}`);
  const { signal, onProgress, threads } = options;
  signal?.throwIfAborted();
  const planned = planConversion(dir, options);
  const { checkpoint, jobs, metadata } = planned;
  try {
    for (const f of checkpoint.files) {
      if (sameFile(f.path, output)) throw new ConvertError('ERR_CONVERT_SAME_FILE', `The output ${output} is an input file`, { file: output });
    }
    const specs = jobs.map((j) => ({ name: j.tensor.name, type: j.type, shape: j.ne }));
    // convert_hf_to_gguf writes n_dims as the tensor's rank; llama-quantize (file types) as ggml_n_dims.
    const writer = await GgufWriter.open(output, metadata, specs, { nDims: planned.outType.fileType ? 'ggml' : 'asGiven', signal });
    const bytesTotal = writer.tensors.reduce((s, t) => s + t.byteLength, 0);
    let bytesWritten = 0;
    await writer.writeAndClose(async () => {
      let reported = -1;
      const report = (upTo: number) => {
        while (reported < upTo) {
          reported++;
          const j = jobs[reported]!;
          onProgress?.({ tensor: reported + 1, tensors: jobs.length, name: j.tensor.name, type: ggmlTypeName(j.type), bytesWritten, bytesTotal });
        }
      };
      for await (const { job, chunk } of pipeline(jobs, threads, signal)) {
        report(job);
        signal?.throwIfAborted();
        await writer.write(chunk.bytes);
        chunk.release?.();
        bytesWritten += chunk.bytes.length;
      }
      report(jobs.length - 1);
    });
    onProgress?.({ tensor: jobs.length, tensors: jobs.length, name: '', type: '', bytesWritten, bytesTotal });
    return {
      input: dir,
      output,
      hfArchitecture: planned.hfArchitecture,
      architecture: planned.plan.arch,
      outType: planned.outType.label,
      fileType: planned.outType.fileType?.ftype ?? planned.outType.convertFtype,
      tensors: writer.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.shape, byteLength: t.byteLength })),
      metadata,
      outputBytes: writer.totalSize,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    checkpoint.close();
  }
}

