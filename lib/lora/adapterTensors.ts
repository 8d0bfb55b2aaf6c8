// An adapter as pairs of GGUF tensors `<base>.lora_a` / `<base>.lora_b`, whatever it was stored as:
// a PEFT or MLX directory mapped onto a base model's names (convert_lora_to_gguf.py's layout), or a
// GGUF LoRA file. Shapes are known up front (for checks and headers); values are read per pair.
//
// GGUF layout for a base weight ne = [n_in, n_out]: lora_a ne = [n_in, r] (row-major r × n_in),
// lora_b ne = [r, n_out] (row-major n_out × r), so that delta W = B·A. token_embd is the exception
// (llama.cpp gathers rows of A): lora_a ne = [r, n_vocab], lora_b ne = [r, n_embd].
import { GEMMA2_NAMES, GEMMA_NAMES } from '../convert/gemma.js';
import { LLAMA_NAMES } from '../convert/llama.js';
import { mapTensorName, textFilter, type NameMap } from '../convert/model.js';
import { permuteRows } from '../convert/tensorData.js';
import { PHI3_NAMES } from '../convert/phi3.js';
import { QWEN_NAMES } from '../convert/qwen.js';
import { GgmlType, ggmlTypeName } from '../gguf/ggmlTypes.js';
import { MappedGguf } from '../gguf/mappedGguf.js';
import { bf16ToFp32, fp16ToFp32 } from '../quantize/halfFloat.js';
import { dequantize } from '../quantize/quantize.js';
import type { SafetensorsFile } from '../safetensors/file.js';
import type { SafetensorsTensorInfo } from '../safetensors/header.js';
import { readAdapterDirectory, type AdapterDirectory, type AdapterModule } from './adapterDirectory.js';
import type { BaseModelInfo } from './baseModel.js';
import { checkBaseModelName, type AdapterCheckOptions } from './baseModelName.js';
import { LoraError } from './errors.js';

export interface LoraTensorPair {
  /** GGUF name of the base tensor, e.g. blk.0.attn_q.weight. */
  base: string;
  /** ne of lora_a and lora_b (innermost first). */
  aNe: [number, number];
  bNe: [number, number];
  rank: number;
  /** token_embd layout (A gathered by token). */
  embedding: boolean;
  /** Where it comes from, for messages: the adapter tensor name. */
  source: string;
  /** Rows of heads whose B rows are un-permuted (Llama q/k), if any. */
  permuteHeads?: number;
  /** Directories: the stored dtype of A (convert's `auto` output type follows the first). */
  dtype?: string;
  /** lora_a and lora_b values, row-major in GGUF layout. */
  read(): Promise<{ a: Float32Array; b: Float32Array }>;
}

export interface AdapterTensors {
  path: string;
  format: 'peft' | 'mlx' | 'gguf';
  /** general.architecture the adapter is for. */
  arch: string;
  /** adapter.lora.alpha (0: the scale is the user scale alone, as llama.cpp reads it). */
  alpha: number;
  pairs: LoraTensorPair[];
  /** Directories: the base model their config names. */
  baseModel?: string;
  /** Directories: tensors left out (see AdapterDirectory.skipped). */
  skipped: string[];
  close(): void;
}

/** HF → GGUF names of the adapted modules, per GGUF architecture; `permute`: Llama's Q/K rows. */
const ADAPTER_NAMES: Record<string, { names: NameMap; permute: boolean }> = {
  llama: { names: LLAMA_NAMES, permute: true },
  qwen2: { names: QWEN_NAMES, permute: false },
  qwen3: { names: QWEN_NAMES, permute: false },
  gemma: { names: GEMMA_NAMES, permute: false },
  gemma2: { names: GEMMA2_NAMES, permute: false },
  gemma3: { names: GEMMA2_NAMES, permute: false },
  phi3: { names: PHI3_NAMES, permute: false },
};

export const ADAPTER_ARCHITECTURES: readonly string[] = Object.keys(ADAPTER_NAMES);

function toFloat32(bytes: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') {
    const out = new Float32Array(bytes.length / 4);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const bits = new Uint16Array(bytes.length / 2);
  new Uint8Array(bits.buffer).set(bytes);
  return dtype === 'F16' ? fp16ToFp32(bits) : bf16ToFp32(bits);
}

/** rows × cols row-major → cols × rows. */
export function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c] as number;
  return out;
}

/** LlamaModel.permute on the rows of an n_out × r matrix: out[h·hd + 2i + j] = in[h·hd + j·hd/2 + i]. */
function permuteMatrixRows(m: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const bytes = permuteRows(new Uint8Array(m.buffer, m.byteOffset, m.byteLength), rows, cols * 4, rows / heads);
  return new Float32Array(bytes.buffer, bytes.byteOffset, m.length);
}

async function readTensor(file: SafetensorsFile, t: SafetensorsTensorInfo): Promise<Float32Array> {
  return toFloat32(await file.read(t, 0, t.byteLength), t.dtype);
}

function directoryPair(d: AdapterDirectory, m: AdapterModule, base: BaseModelInfo, alpha: number): LoraTensorPair {
  const spec = ADAPTER_NAMES[base.arch];
  if (!spec) throw new LoraError('ERR_LORA_ARCH', `Adapters for ${base.arch} models are not supported. Supported: ${ADAPTER_ARCHITECTURES.join(', ')}`, { file: base.path });
  const filtered = textFilter(m.hfName);
  if (filtered === undefined) throw new LoraError('ERR_LORA_UNSUPPORTED', `${m.a.name} adapts a multimodal tower, which the text model's GGUF does not hold`, { file: d.weights.path, tensor: m.a.name });
  if (filtered.includes('block_sparse_moe.experts') || filtered.includes('mlp.experts')) {
    throw new LoraError('ERR_LORA_UNSUPPORTED', `${m.a.name} adapts one expert; expert weights are stacked in GGUF and a per-expert LoRA has no GGUF form`, { file: d.weights.path, tensor: m.a.name });
  }
  if (filtered === 'lm_head.weight' && (base.arch === 'gemma' || base.arch === 'gemma2')) {
    throw new LoraError('ERR_LORA_UNSUPPORTED', `${m.a.name} adapts lm_head, which ${base.arch} ties to the embeddings`, { file: d.weights.path, tensor: m.a.name });
  }
  let name: string;
  try {
    // Any block id maps: a block the base lacks is reported as a missing tensor, not a naming error.
    name = mapTensorName(spec.names, filtered, Number.MAX_SAFE_INTEGER);
  } catch {
    throw new LoraError('ERR_LORA_TENSOR', `Can not map ${m.a.name} (module ${m.hfName}) onto a ${base.arch} tensor`, { file: d.weights.path, tensor: m.a.name });
  }
  const block = /^blk\.(\d+)\./.exec(name);
  if (block && Number(block[1]) >= base.blockCount) {
    throw new LoraError('ERR_LORA_MISSING_TENSOR', `The adapter targets ${name} (from ${m.a.name}) but the base ${base.path} has ${base.blockCount} blocks`, { file: d.weights.path, tensor: name });
  }
  const peft = d.format === 'peft';
  const r = m.rank;
  // Source shapes, row-major: PEFT A (r, n_in), B (n_out, r); MLX a (n_in, r), b (r, n_out).
  const nIn = peft ? m.a.shape[1]! : m.a.shape[0]!;
  const nOut = peft ? m.b.shape[0]! : m.b.shape[1]!;
  const embedding = m.embedding || name === 'token_embd.weight';
  let permuteHeads: number | undefined;
  if (spec.permute && !embedding) {
    if (filtered.endsWith('q_proj.weight')) permuteHeads = base.heads;
    else if (filtered.endsWith('k_proj.weight')) permuteHeads = base.kvHeads;
    if ((filtered.endsWith('q_proj.weight') || filtered.endsWith('k_proj.weight')) && permuteHeads === undefined) {
      throw new LoraError('ERR_LORA_BASE', `${base.path} does not give the head count needed to un-permute ${name}`, { file: base.path });
    }
    if (permuteHeads !== undefined && (nOut % permuteHeads !== 0 || (nOut / permuteHeads) % 2 !== 0)) {
      throw new LoraError('ERR_LORA_SHAPE', `${m.b.name} has ${nOut} output rows, not ${permuteHeads} heads of an even size as the base's ${name} has`, {
        file: d.weights.path,
        tensor: name,
        adapterShape: [nIn, nOut],
      });
    }
  }
  // llama.cpp scales by alpha / rank with one alpha per file; a module trained with another scale
  // (alpha_pattern, rsLoRA, another rank under MLX's fixed scale) has the difference folded into B.
  const fold = m.intendedScale / (alpha / r);
  const factor = Math.abs(fold - 1) < 1e-12 ? 1 : fold;
  const aNe: [number, number] = embedding ? [r, nIn] : [nIn, r];
  const bNe: [number, number] = [r, nOut];
  return {
    base: name,
    aNe,
    bNe,
    rank: r,
    embedding,
    source: m.a.name,
    permuteHeads,
    dtype: m.a.dtype,
    async read() {
      let a = await readTensor(d.weights, m.a);
      let b = await readTensor(d.weights, m.b);
      if (!peft) {
        a = transpose(a, nIn, r); // (n_in, r) → (r, n_in)
        b = transpose(b, r, nOut); // (r, n_out) → (n_out, r)
      }
      // token_embd's A is stored gathered by token: (n_vocab, r).
      if (embedding) a = transpose(a, r, nIn);
      if (permuteHeads !== undefined) b = permuteMatrixRows(b, nOut, r, permuteHeads);
      if (factor !== 1) for (let i = 0; i < b.length; i++) b[i] = Math.fround((b[i] as number) * factor);
      return { a, b };
    },
  };
}

/** A PEFT / MLX directory as GGUF LoRA pairs for `base`. The caller closes the result. */
export function adapterFromDirectory(dir: string, base: BaseModelInfo, options: AdapterCheckOptions = {}): AdapterTensors {
  const d = readAdapterDirectory(dir);
  try {
    checkBaseModelName(d.baseModel, dir, base, options);
    const alpha = d.alpha;
    const pairs = d.modules.map((m) => directoryPair(d, m, base, alpha));
    const seen = new Set<string>();
    for (const p of pairs) {
      if (seen.has(p.base)) throw new LoraError('ERR_LORA_TENSOR', `Two adapter modules map onto ${p.base}`, { file: d.weights.path, tensor: p.base });
      seen.add(p.base);
    }
    return { path: dir, format: d.format, arch: base.arch, alpha, pairs, baseModel: d.baseModel, skipped: d.skipped, close: () => d.weights.close() };
  } catch (e) {
    d.weights.close();
    throw e;
  }
}

const FLOAT_TYPES = new Set<number>([GgmlType.F32, GgmlType.F16, GgmlType.BF16]);

function ggufTensorValues(file: MappedGguf, name: string): Float32Array {
  const info = file.tensor(name)!;
  const bytes = file.tensorData(info);
  const count = info.shape.reduce((x, y) => x * y, 1);
  if (FLOAT_TYPES.has(info.type)) return toFloat32(bytes, ggmlTypeName(info.type));
  return dequantize(info.type, bytes, count);
}

/** A GGUF LoRA (general.type = adapter, adapter.type = lora). The caller closes the result. */
export function adapterFromGguf(path: string): AdapterTensors {
  const file = MappedGguf.open(path);
  try {
    const md = file.header.metadata;
    const value = (key: string) => md.find((m) => m.key === key)?.value;
    if (value('general.type') !== 'adapter') throw new LoraError('ERR_LORA_NOT_ADAPTER', `${path} is not an adapter (general.type is ${JSON.stringify(value('general.type'))})`, { file: path });
    if (value('adapter.type') !== 'lora') throw new LoraError('ERR_LORA_UNSUPPORTED', `${path} is a ${JSON.stringify(value('adapter.type'))} adapter, not a LoRA`, { file: path });
    const arch = value('general.architecture');
    if (typeof arch !== 'string') throw new LoraError('ERR_LORA_NOT_ADAPTER', `${path} has no general.architecture`, { file: path });
    const alphaValue = value('adapter.lora.alpha');
    const alpha = typeof alphaValue === 'number' ? alphaValue : 0;
    const halves = new Map<string, { a?: string; b?: string }>();
    for (const t of file.header.tensors) {
      const m = /^(.+)\.lora_([ab])$/.exec(t.name);
      if (!m) {
        if (t.name.endsWith('_norm.weight')) continue; // llama.cpp's loader skips these too
        throw new LoraError('ERR_LORA_TENSOR', `${t.name} is not a .lora_a / .lora_b tensor`, { file: path, tensor: t.name });
      }
      const entry = halves.get(m[1]!) ?? {};
      entry[m[2] as 'a' | 'b'] = t.name;
      halves.set(m[1]!, entry);
    }
    const pairs: LoraTensorPair[] = [];
    for (const [base, { a, b }] of halves) {
      if (!a || !b) throw new LoraError('ERR_LORA_TENSOR', `${a ?? b} has no ${a ? 'lora_b' : 'lora_a'} partner`, { file: path, tensor: base });
      const ai = file.tensor(a)!;
      const bi = file.tensor(b)!;
      const aNe = [ai.shape[0] ?? 1, ai.shape[1] ?? 1] as [number, number];
      const bNe = [bi.shape[0] ?? 1, bi.shape[1] ?? 1] as [number, number];
      if (ai.shape.length > 2 || bi.shape.length > 2) throw new LoraError('ERR_LORA_TENSOR', `${a} / ${b} are not matrices`, { file: path, tensor: base });
      const embedding = base === 'token_embd.weight';
      const rank = bNe[0];
      if ((embedding ? aNe[0] : aNe[1]) !== rank) {
        throw new LoraError('ERR_LORA_SHAPE', `${a} [${aNe.join(', ')}] and ${b} [${bNe.join(', ')}] disagree on the rank`, { file: path, tensor: base });
      }
      pairs.push({
        base,
        aNe,
        bNe,
        rank,
        embedding,
        source: a,
        read: async () => ({ a: ggufTensorValues(file, a), b: ggufTensorValues(file, b) }),
      });
    }
    return { path, format: 'gguf', arch, alpha, pairs, skipped: [], close: () => file.close() };
  } catch (e) {
    file.close();
    throw e;
  }
}
