// Model quantization: an F32/F16/BF16 GGUF in, the file llama_model_quantize writes out, byte for
// byte (key order, tensor order, per-tensor types, alignment, data). Tensors are read from the
// mapped input and quantized in row chunks that are written as they are produced, so memory stays
// at a few chunks whatever the model size; the file appears at its destination only when complete.
import { GgmlType, ggmlTypeFromName, ggmlTypeInfo, ggmlTypeName } from '../gguf/ggmlTypes.js';
import { MappedGguf } from '../gguf/mappedGguf.js';
import { GgufValueType } from '../gguf/types.js';
import type { GgufMetadataEntry, GgufTensorInfo } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';
import { QuantizeModelError } from './errors.js';
import { resolveFileType, type FileTypeInfo, type FileTypeName } from './fileTypes.js';
import { readImatrix, type Imatrix } from './imatrix.js';
import { dequantize, quantize } from './quantize.js';
import { chooseTensorTypes, type TensorTypeChoice, type TensorTypeOverride } from './tensorTypes.js';
import { QUANT_TYPE_NAMES } from './typeInfo.js';
import { sameFile } from '../sameFile.js';

export { QuantizeModelError };

/** llama.cpp's GGML_QNT_VERSION. */
const QUANTIZATION_VERSION = 2;
/** Source elements per native call: large enough to keep the pool busy, small enough to bound memory. */
const CHUNK_ELEMENTS = 1 << 22;
/** llama-quantize copies at most 127 bytes of the imatrix file and dataset names into the keys. */
const IMATRIX_STRING_BYTES = 127;

export interface QuantizeModelProgress {
  /** 1-based index of the tensor being written, in output order. */
  tensor: number;
  tensors: number;
  name: string;
  type: string;
  bytesWritten: number;
  bytesTotal: number;
}

export interface QuantizeModelOptions {
  /** Threads for the kernels (default: the native pool size). The bytes never depend on it. */
  threads?: number;
  /** An importance matrix: a path to a llama-imatrix file (GGUF or legacy .dat), or one already read. */
  imatrix?: string | Imatrix;
  /** `--output-tensor-type`: ggml type name of output.weight (and of a tied token_embd). */
  outputTensorType?: string;
  /** `--token-embedding-type`. */
  tokenEmbeddingType?: string;
  /** `--tensor-type REGEX=TYPE`, in order; the first pattern found in a tensor's name decides its type. */
  tensorTypes?: ({ pattern: string | RegExp; type: string } | string)[];
  /** `--leave-output-tensor`. */
  leaveOutputTensor?: boolean;
  /** `--pure`: no per-tensor rules, every quantized tensor gets the file type's default. */
  pure?: boolean;
  /** Quantize tensors that are already quantized (dequantized first), as `--allow-requantize`. */
  allowRequantize?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: QuantizeModelProgress) => void;
}

export interface QuantizedTensor extends TensorTypeChoice {
  shape: number[];
  byteLength: number;
  /** An importance matrix entry was applied. */
  imatrix: boolean;
}

export interface QuantizeModelResult {
  input: string;
  output: string;
  fileType: FileTypeName;
  tensors: QuantizedTensor[];
  inputBytes: number;
  outputBytes: number;
  seconds: number;
}

/** The tensor types quantize() writes and dequantize() reads. */
const KERNEL_TYPES = new Set<number>(QUANT_TYPE_NAMES.map((n) => ggmlTypeFromName(n) as number));
const SOURCE_TYPES = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

function kernelType(name: string, what: string): GgmlType {
  const id = ggmlTypeFromName(name);
  if (id === undefined || !KERNEL_TYPES.has(id)) {
    throw new RangeError(`Expected one of ${QUANT_TYPE_NAMES.join(', ')} for ${what} but received '${name}'`);
  }
  return id;
}

/** `REGEX=TYPE` as llama-quantize parses it: the pattern is lower-cased, the type any case. */
export function parseTensorTypeOption(spec: string): { pattern: string; type: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new RangeError(`Malformed tensor type '${spec}': expected REGEX=TYPE`);
  if (eq === 0) throw new RangeError(`Missing tensor name in '${spec}'`);
  if (eq === spec.length - 1) throw new RangeError(`Missing quantization type in '${spec}'`);
  return { pattern: spec.slice(0, eq).toLowerCase(), type: spec.slice(eq + 1) };
}

function tensorTypeOverrides(list: QuantizeModelOptions['tensorTypes']): TensorTypeOverride[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError('Expected an array for tensorTypes');
  return list.map((item, i) => {
    const o = typeof item === 'string' ? parseTensorTypeOption(item) : item;
    let pattern: RegExp;
    try {
      // A fresh, flag-less RegExp: test() must not carry lastIndex between tensors.
      pattern = new RegExp(typeof o.pattern === 'string' ? o.pattern : o.pattern.source);
    } catch (e) {
      throw new RangeError(`Invalid regular expression in tensorTypes[${i}]: ${(e as Error).message}`);
    }
    return { pattern, type: kernelType(o.type, `tensorTypes[${i}].type`) };
  });
}

/** Bytes of a UTF-8 string cut to at most `max` bytes, never inside a character. */
function truncateUtf8(s: string, max: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length <= max) return s;
  let end = max;
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The output's key-value pairs, in llama_model_quantize's order (gguf_set_* = remove + append). */
function outputMetadata(input: GgufMetadataEntry[], fileType: FileTypeInfo, imatrix: Imatrix | undefined): GgufMetadataEntry[] {
  const out = [...input];
  const set = (entry: GgufMetadataEntry) => {
    const i = out.findIndex((m) => m.key === entry.key);
    if (i >= 0) out.splice(i, 1);
    out.push(entry);
  };
  const remove = (key: string) => {
    const i = out.findIndex((m) => m.key === key);
    if (i >= 0) out.splice(i, 1);
  };
  set({ key: 'general.quantization_version', type: GgufValueType.UINT32, value: QUANTIZATION_VERSION });
  set({ key: 'general.file_type', type: GgufValueType.UINT32, value: fileType.ftype });
  remove('split.no');
  remove('split.count');
  remove('split.tensors.count');
  if (imatrix && imatrix.entries.size > 0) {
    set({ key: 'quantize.imatrix.file', type: GgufValueType.STRING, value: truncateUtf8(imatrix.file, IMATRIX_STRING_BYTES) });
    if (imatrix.datasets.length > 0) {
      set({ key: 'quantize.imatrix.dataset', type: GgufValueType.STRING, value: truncateUtf8(imatrix.datasets[0] as string, IMATRIX_STRING_BYTES) });
    }
    set({ key: 'quantize.imatrix.entries_count', type: GgufValueType.UINT32, value: imatrix.entries.size });
    if (imatrix.chunkCount > 0) set({ key: 'quantize.imatrix.chunks_count', type: GgufValueType.UINT32, value: imatrix.chunkCount });
  }
  return out;
}

function elementBytes(type: number): number {
  return type === GgmlType.F32 ? 4 : 2;
}

interface TensorJob {
  info: GgufTensorInfo;
  choice: TensorTypeChoice;
  imatrix: Float32Array | null;
  outBytes: number;
}

function planImatrix(imatrix: Imatrix | undefined, info: GgufTensorInfo, choice: TensorTypeChoice): Float32Array | null {
  if (!imatrix || choice.type === choice.sourceType) return null;
  const values = imatrix.entries.get(info.name);
  if (!values) return null;
  const expected = (info.shape[0] ?? 1) * (info.shape[2] ?? 1);
  if (values.length !== expected) {
    // llama.cpp ignores a mismatched entry only for token_embd.
    if (info.name === 'token_embd.weight' || info.name === 'per_layer_token_embd.weight') return null;
    throw new QuantizeModelError('ERR_QUANTIZE_IMATRIX', `imatrix size ${values.length} is different from tensor size ${expected} for ${info.name}`, {
      file: imatrix.file,
      tensor: info.name,
    });
  }
  return values;
}

/**
 * Quantizes the GGUF model at `input` into `output` as llama-quantize's file type `type` (Q4_K_M,
 * Q8_0, …), producing the same bytes as llama_model_quantize. Nothing appears at `output` unless
 * the whole file was written; an abort rejects with `signal.reason` and leaves no file.
 */
export async function quantizeModel(input: string, output: string, type: string, options: QuantizeModelOptions = {}): Promise<QuantizeModelResult> {
  const started = performance.now();
  if (typeof input !== 'string' || input.length === 0) throw new TypeError(`Expected an input path but received ${String(input)}`);
  if (typeof output !== 'string' || output.length === 0) throw new TypeError(`Expected an output path but received ${String(output)}`);
  const fileType = resolveFileType(type);
  const overrides = tensorTypeOverrides(options.tensorTypes);
  const outputTensorType = options.outputTensorType === undefined ? undefined : kernelType(options.outputTensorType, 'outputTensorType');
  const tokenEmbeddingType = options.tokenEmbeddingType === undefined ? undefined : kernelType(options.tokenEmbeddingType, 'tokenEmbeddingType');
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  if (sameFile(input, output)) throw new QuantizeModelError('ERR_QUANTIZE_SAME_FILE', `Input and output are the same file: ${input}`, { file: input });

  const imatrix = typeof options.imatrix === 'string' ? readImatrix(options.imatrix) : options.imatrix;
  if (imatrix) {
    for (const [name, values] of imatrix.entries) {
      for (const v of values) {
        if (!Number.isFinite(v)) throw new QuantizeModelError('ERR_QUANTIZE_IMATRIX', `imatrix entry ${name} contains the non-finite value ${v}`, { file: imatrix.file });
      }
    }
  }

  const model = MappedGguf.open(input);
  try {
    const header = model.header;
    if (!header.littleEndian) throw new QuantizeModelError('ERR_QUANTIZE_INPUT', `${input} is a big-endian GGUF; quantize it on a big-endian build of llama.cpp`, { file: input });
    const choices = chooseTensorTypes(header.metadata, header.tensors, fileType, {
      outputTensorType,
      tokenEmbeddingType,
      tensorTypes: overrides,
      leaveOutputTensor: options.leaveOutputTensor,
      pure: options.pure,
      hasImatrix: imatrix !== undefined,
    });
    const jobs: TensorJob[] = choices.map((choice) => {
      const info = model.tensor(choice.name) as GgufTensorInfo;
      if (choice.type !== choice.sourceType) {
        if (!SOURCE_TYPES.has(choice.sourceType)) {
          if (!options.allowRequantize) {
            throw new QuantizeModelError(
              'ERR_QUANTIZE_REQUANTIZE',
              `${choice.name} is already ${ggmlTypeName(choice.sourceType)}: requantizing is disabled (pass allowRequantize / --allow-requantize)`,
              { file: input, tensor: choice.name },
            );
          }
          if (!KERNEL_TYPES.has(choice.sourceType)) {
            throw new QuantizeModelError('ERR_QUANTIZE_REQUANTIZE', `Cannot dequantize ${choice.name} from ${ggmlTypeName(choice.sourceType)}`, { file: input, tensor: choice.name });
          }
        }
        if (!KERNEL_TYPES.has(choice.type)) {
          throw new QuantizeModelError('ERR_QUANTIZE_TYPE', `${choice.name} would become ${ggmlTypeName(choice.type)}, which gguf-forge does not write`, { tensor: choice.name });
        }
      }
      const layout = ggmlTypeInfo(choice.type);
      const ne0 = info.shape[0] ?? 1;
      const elements = info.shape.reduce((a, b) => a * b, 1);
      const outBytes = choice.type === choice.sourceType ? info.byteLength : (elements / ne0) * (ne0 / (layout?.blockSize ?? 1)) * (layout?.typeSize ?? 0);
      return { info, choice, imatrix: planImatrix(imatrix, info, choice), outBytes };
    });

    const metadata = outputMetadata(header.metadata, fileType, imatrix);
    const specs = jobs.map((j) => ({ name: j.info.name, type: j.choice.type, shape: j.info.shape }));
    // Alignment: 32, or a general.alignment copied from the input. llama.cpp then lays out the header
    // and offsets by that alignment but pads tensor data by 32, which gives the same bytes whenever the
    // tensor sizes are multiples of it, and a broken file otherwise; this writer pads consistently.
    const writer = await GgufWriter.open(output, metadata, specs, { signal });
    const bytesTotal = jobs.reduce((sum, j) => sum + j.outBytes, 0);
    let bytesWritten = 0;
    await writer.writeAndClose(async () => {
      for (let t = 0; t < jobs.length; t++) {
        const job = jobs[t] as TensorJob;
        signal?.throwIfAborted();
        onProgress?.({ tensor: t + 1, tensors: jobs.length, name: job.info.name, type: ggmlTypeName(job.choice.type), bytesWritten, bytesTotal });
        for await (const bytes of tensorChunks(model, job, options.threads, signal)) {
          await writer.write(bytes);
          bytesWritten += bytes.length;
        }
      }
    });
    onProgress?.({ tensor: jobs.length, tensors: jobs.length, name: '', type: '', bytesWritten, bytesTotal });
    return {
      input,
      output,
      fileType: fileType.name,
      tensors: jobs.map((j) => ({ ...j.choice, shape: j.info.shape, byteLength: j.outBytes, imatrix: j.imatrix !== null })),
      inputBytes: header.fileSize,
      outputBytes: writer.totalSize,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    model.close();
  }
}

/**
 * A tensor's output bytes in row chunks. The next chunk is quantized while the caller writes the
 * previous one, so the kernels and the disk overlap.
 */
async function* tensorChunks(model: MappedGguf, job: TensorJob, threads: number | undefined, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const { info, choice } = job;
  const data = model.tensorData(info);
  if (choice.type === choice.sourceType) {
    yield data;
    return;
  }
  const ne0 = info.shape[0] ?? 1;
  const ne1 = info.shape[1] ?? 1;
  const matrices = info.byteLength / (ne0 * ne1 * sourceElementBytes(choice.sourceType));
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / ne0));
  const target = ggmlTypeName(choice.type);
  const pieces: { matrix: number; row: number; rows: number }[] = [];
  for (let m = 0; m < matrices; m++) for (let r = 0; r < ne1; r += rowsPerChunk) pieces.push({ matrix: m, row: r, rows: Math.min(rowsPerChunk, ne1 - r) });

  // Two output buffers, alternating: one is being written while the next chunk is quantized into
  // the other (the writer keeps no reference once a write has resolved).
  const buffers: Uint8Array[] = [];
  let turn = 0;
  const outputFor = (rows: number): Uint8Array => {
    const bytes = (rows * job.outBytes) / (matrices * ne1);
    const slot = turn++ % 2;
    const buffer = buffers[slot];
    if (buffer && buffer.length >= bytes) return buffer.subarray(0, bytes);
    buffers[slot] = new Uint8Array(bytes);
    return buffers[slot] as Uint8Array;
  };
  const run = (p: { matrix: number; row: number; rows: number }): Promise<Uint8Array> => {
    const first = p.matrix * ne1 + p.row;
    const output = outputFor(p.rows);
    const imatrix = job.imatrix ? job.imatrix.subarray(p.matrix * ne0, (p.matrix + 1) * ne0) : null;
    if (SOURCE_TYPES.has(choice.sourceType)) {
      const size = elementBytes(choice.sourceType);
      const source = data.subarray(first * ne0 * size, (first + p.rows) * ne0 * size);
      return quantize(target, source, { rows: p.rows, cols: ne0, sourceType: choice.sourceType, imatrix, threads, signal, output });
    }
    // Requantizing: dequantize the rows to f32 first, as llama.cpp does.
    const layout = ggmlTypeInfo(choice.sourceType);
    const rowBytes = (ne0 / (layout?.blockSize ?? 1)) * (layout?.typeSize ?? 0);
    const floats = dequantize(choice.sourceType, data.subarray(first * rowBytes, (first + p.rows) * rowBytes), p.rows * ne0, { threads });
    return quantize(target, floats, { rows: p.rows, cols: ne0, imatrix, threads, signal, output });
  };

  let pending = pieces.length > 0 ? run(pieces[0] as (typeof pieces)[number]) : undefined;
  for (let i = 0; i < pieces.length; i++) {
    const bytes = await (pending as Promise<Uint8Array>);
    pending = i + 1 < pieces.length ? run(pieces[i + 1] as (typeof pieces)[number]) : undefined;
    // If the consumer stops (an error or abort), let the one chunk in flight settle quietly.
    try {
      yield bytes;
    } finally {
      if (pending && i + 1 < pieces.length) pending.catch(() => undefined);
    }
  }
}

/** Bytes per source element for the row arithmetic of F32/F16/BF16 and quantized sources. */
function sourceElementBytes(type: number): number {
  if (SOURCE_TYPES.has(type)) return elementBytes(type);
  const layout = ggmlTypeInfo(type);
  return (layout?.typeSize ?? 0) / (layout?.blockSize ?? 1);
}
