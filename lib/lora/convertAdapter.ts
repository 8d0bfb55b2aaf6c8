// PEFT / MLX adapter directory → GGUF LoRA, as llama.cpp's convert_lora_to_gguf.py writes it:
// general.architecture (the base's), general.type = adapter, adapter.type = lora, general.name,
// adapter.lora.alpha (f32), general.quantization_version; tensors <base>.lora_a / .lora_b in the
// adapter's (sorted) tensor order, F32 by default. The adapter is checked against the base before
// the output is opened, and the file appears only when complete.
import { existsSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { GgmlType, ggmlTypeName } from '../gguf/ggmlTypes.js';
import { GgufValueType, type GgufMetadataEntry } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';
import { quantize } from '../quantize/quantize.js';
import { adapterFromDirectory, type LoraTensorPair } from './adapterTensors.js';
import { detectAdapterDirectory, readAdapterDirectory } from './adapterDirectory.js';
import { readBaseModel } from './baseModel.js';
import { checkPairs, type AdapterCheckOptions } from './check.js';
import { LoraError } from './errors.js';
import { sameFile } from '../sameFile.js';

/** convert_lora_to_gguf.py --outtype values. */
export const ADAPTER_OUT_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'auto'] as const;
const QUANTIZATION_VERSION = 2;

export interface ConvertAdapterProgress {
  tensor: number;
  tensors: number;
  name: string;
  type: string;
}

export interface ConvertAdapterOptions extends AdapterCheckOptions {
  /**
   * The base model: a GGUF file (architecture, head counts and every tensor shape are checked) or a
   * Hugging Face directory with config.json (convert_lora_to_gguf.py's --base). Default: the
   * base_model_name_or_path / model of the adapter config when it is a local directory.
   */
  base?: string;
  /** f32 (default, as convert_lora_to_gguf.py) | f16 | bf16 | q8_0 | auto. */
  outType?: string;
  /** general.name (default: the adapter directory's name). */
  name?: string;
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ConvertAdapterProgress) => void;
}

export interface ConvertAdapterResult {
  input: string;
  output: string;
  format: 'peft' | 'mlx';
  architecture: string;
  alpha: number;
  outType: string;
  tensors: { name: string; type: string; shape: number[]; byteLength: number }[];
  metadata: GgufMetadataEntry[];
  /** Adapter tensors left out (mergekit norms, PEFT base_layer copies), which llama.cpp ignores. */
  skipped: string[];
  outputBytes: number;
  seconds: number;
}

/** Whether `dir` is a PEFT or MLX adapter directory (for `convert` to dispatch on). */
export function isAdapterDirectory(dir: string): boolean {
  return detectAdapterDirectory(dir) !== undefined;
}

function outTypeOf(requested: string | undefined, firstDtype: string | undefined): { label: string; type: GgmlType } {
  const value = requested ?? 'f32';
  if (typeof value !== 'string') throw new TypeError(`Expected a string for outType but received ${String(value)} of type ${typeof value}`);
  switch (value.toLowerCase()) {
    case 'f32':
      return { label: 'f32', type: GgmlType.F32 };
    case 'f16':
      return { label: 'f16', type: GgmlType.F16 };
    case 'bf16':
      return { label: 'bf16', type: GgmlType.BF16 };
    case 'q8_0':
      return { label: 'q8_0', type: GgmlType.Q8_0 };
    case 'auto':
      // The converter's GUESSED: the first tensor's dtype decides, BF16 → bf16, anything else f16.
      return firstDtype === 'BF16' ? { label: 'bf16', type: GgmlType.BF16 } : { label: 'f16', type: GgmlType.F16 };
  }
  throw new LoraError('ERR_LORA_OUTTYPE', `Unknown adapter output type '${value}': expected ${ADAPTER_OUT_TYPES.join(', ')}`);
}

/** The type a lora tensor is written as: gguf-py cannot write Q8_0 rows that are not whole blocks (lora_b rows are r long), it falls back to F16. */
function tensorType(target: GgmlType, ne0: number): GgmlType {
  return target === GgmlType.Q8_0 && ne0 % 32 !== 0 ? GgmlType.F16 : target;
}

function defaultBase(dir: string): string | undefined {
  const d = readAdapterDirectory(dir);
  d.weights.close();
  const named = d.baseModel;
  return named !== undefined && existsSync(resolvePath(dir, named)) ? resolvePath(dir, named) : undefined;
}

async function encode(values: Float32Array, type: GgmlType, rows: number, cols: number, threads: number | undefined, signal: AbortSignal | undefined): Promise<Uint8Array> {
  if (type === GgmlType.F32) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return quantize(ggmlTypeName(type), values, { rows, cols, threads, signal });
}

/**
 * Converts the PEFT or MLX adapter in `dir` to a GGUF LoRA at `output`, checked against the base
 * first (ERR_LORA_* errors, nothing written). Needs the base model (`options.base`) for the
 * architecture, the name mapping and Llama's Q/K permutation.
 */
export async function convertAdapter(dir: string, output: string, options: ConvertAdapterOptions = {}): Promise<ConvertAdapterResult> {
  const started = performance.now();
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`Expected an adapter directory but received ${String(dir)} of type ${typeof dir}`);
  if (typeof output !== 'string' || output.length === 0) throw new TypeError(`Expected an output path but received ${String(output)} of type ${typeof output}`);
  const { signal, onProgress, threads } = options;
  signal?.throwIfAborted();
  if (!detectAdapterDirectory(dir)) throw new LoraError('ERR_LORA_NOT_ADAPTER', `${dir} is not a LoRA adapter directory (PEFT adapter_config.json + adapter_model.safetensors, or MLX adapters.safetensors)`, { file: dir });
  const basePath = options.base ?? defaultBase(dir);
  if (basePath === undefined) {
    throw new LoraError('ERR_LORA_BASE_REQUIRED', `Converting ${dir} needs its base model (a GGUF file or a directory with config.json) for the architecture and tensor names: pass base (--base)`, { file: dir });
  }
  const base = readBaseModel(basePath);
  const adapter = adapterFromDirectory(dir, base, options);
  try {
    checkPairs(adapter, base);
    const out = outTypeOf(options.outType, adapter.pairs[0]?.dtype);
    for (const p of [dir, basePath]) if (sameFile(p, output)) throw new LoraError('ERR_LORA_SAME_FILE', `The output ${output} is an input`, { file: output });

    const metadata: GgufMetadataEntry[] = [
      { key: 'general.architecture', type: GgufValueType.STRING, value: adapter.arch },
      { key: 'general.type', type: GgufValueType.STRING, value: 'adapter' },
      { key: 'adapter.type', type: GgufValueType.STRING, value: 'lora' },
      { key: 'general.name', type: GgufValueType.STRING, value: options.name ?? basename(resolvePath(dir)) },
      { key: 'adapter.lora.alpha', type: GgufValueType.FLOAT32, value: Math.fround(adapter.alpha) },
      { key: 'general.quantization_version', type: GgufValueType.UINT32, value: QUANTIZATION_VERSION },
    ];
    const jobs: { pair: LoraTensorPair; side: 'a' | 'b'; name: string; ne: [number, number]; type: GgmlType }[] = [];
    for (const pair of adapter.pairs) {
      jobs.push({ pair, side: 'a', name: `${pair.base}.lora_a`, ne: pair.aNe, type: tensorType(out.type, pair.aNe[0]) });
      jobs.push({ pair, side: 'b', name: `${pair.base}.lora_b`, ne: pair.bNe, type: tensorType(out.type, pair.bNe[0]) });
    }
    // gguf-py writes n_dims as the array's rank: 2 for every lora tensor, even with a rank of 1.
    const writer = await GgufWriter.open(output, metadata, jobs.map((j) => ({ name: j.name, type: j.type, shape: [...j.ne] })), { nDims: 'asGiven', signal });
    await writer.writeAndClose(async () => {
      let values: { a: Float32Array; b: Float32Array } | undefined;
      for (let i = 0; i < jobs.length; i++) {
        const j = jobs[i]!;
        signal?.throwIfAborted();
        onProgress?.({ tensor: i + 1, tensors: jobs.length, name: j.name, type: ggmlTypeName(j.type) });
        if (j.side === 'a') values = await j.pair.read();
        const v = j.side === 'a' ? values!.a : values!.b;
        await writer.write(await encode(v, j.type, j.ne[1], j.ne[0], threads, signal));
      }
    });
    return {
      input: dir,
      output,
      format: adapter.format as 'peft' | 'mlx',
      architecture: adapter.arch,
      alpha: Math.fround(adapter.alpha),
      outType: out.label,
      tensors: writer.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.shape, byteLength: t.byteLength })),
      metadata,
      skipped: adapter.skipped,
      outputBytes: writer.totalSize,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    adapter.close();
  }
}
