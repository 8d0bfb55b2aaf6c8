// LoRA adapter directories as trainers save them:
// - PEFT (Hugging Face, Unsloth): adapter_config.json + adapter_model.safetensors, tensors named
//   base_model.model.<module>.lora_A.weight (r × n_in) and .lora_B.weight (n_out × r);
// - MLX (mlx-lm): adapter_config.json with lora_parameters + adapters.safetensors, tensors named
//   <module>.lora_a (n_in × r) and .lora_b (r × n_out), i.e. transposed.
// Only the config is read here; tensors are listed by their headers.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile } from '../safetensors/file.js';
import type { SafetensorsTensorInfo } from '../safetensors/header.js';
import { LoraError } from './errors.js';
import { compareUtf8 } from '../utf8Order.js';

export type AdapterFormat = 'peft' | 'mlx';

export const ADAPTER_CONFIG = 'adapter_config.json';
const PEFT_WEIGHTS = 'adapter_model.safetensors';
const PEFT_PICKLE = 'adapter_model.bin';
const MLX_WEIGHTS = 'adapters.safetensors';
/** An adapter_config.json is a few KB; refuse absurd ones before reading. */
const MAX_CONFIG_BYTES = 1 << 20;

/** One low-rank pair as stored: A and B tensors of one module. */
export interface AdapterModule {
  /** HF name of the adapted weight, e.g. model.layers.0.self_attn.q_proj.weight. */
  hfName: string;
  a: SafetensorsTensorInfo;
  b: SafetensorsTensorInfo;
  /** PEFT lora_embedding_A/B (an nn.Embedding: A is r × n_vocab, B is n_embd × r). */
  embedding: boolean;
  /** Rank (A's and B's shared dimension). */
  rank: number;
  /** s = alpha / rank the trainer applies to this module (PEFT alpha_pattern / rsLoRA, MLX scale). */
  intendedScale: number;
}

export interface AdapterDirectory {
  dir: string;
  format: AdapterFormat;
  configPath: string;
  weights: SafetensorsFile;
  config: Record<string, unknown>;
  /** adapter.lora.alpha as written to the GGUF: the s·r of the first module. */
  alpha: number;
  modules: AdapterModule[];
  /** Tensors left out because llama.cpp's loader ignores them (mergekit norms, PEFT base_layer copies). */
  skipped: string[];
  /** The base model the config names (PEFT base_model_name_or_path, MLX model), if any. */
  baseModel?: string;
}

/** Whether `dir` looks like a PEFT or MLX adapter directory (nothing is parsed). */
export function detectAdapterDirectory(dir: string): AdapterFormat | undefined {
  try {
    if (!statSync(dir).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  if (existsSync(join(dir, MLX_WEIGHTS))) return 'mlx';
  if (existsSync(join(dir, ADAPTER_CONFIG)) && (existsSync(join(dir, PEFT_WEIGHTS)) || existsSync(join(dir, PEFT_PICKLE)))) return 'peft';
  return undefined;
}

function readConfig(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new LoraError('ERR_LORA_CONFIG', `No ${ADAPTER_CONFIG} beside the adapter weights`, { file: path });
  const size = statSync(path).size;
  if (size > MAX_CONFIG_BYTES) throw new LoraError('ERR_LORA_CONFIG', `${ADAPTER_CONFIG} is ${size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`, { file: path });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LoraError('ERR_LORA_CONFIG', `${ADAPTER_CONFIG} is not JSON: ${(e as Error).message}`, { file: path });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new LoraError('ERR_LORA_CONFIG', `${ADAPTER_CONFIG} is not a JSON object`, { file: path });
  return json as Record<string, unknown>;
}

function positiveNumber(value: unknown, what: string, file: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new LoraError('ERR_LORA_CONFIG', `Expected a positive number for ${what} but received ${JSON.stringify(value)}`, { file });
  }
  return value;
}

function patternMap(value: unknown, what: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  if (value === undefined || value === null) return out;
  if (typeof value !== 'object' || Array.isArray(value)) throw new LoraError('ERR_LORA_CONFIG', `${what} is not an object`, { file });
  for (const [k, v] of Object.entries(value)) out.set(k, positiveNumber(v, `${what}.${k}`, file));
  return out;
}

/** PEFT's pattern lookup (get_pattern_key): a key matches a module whose name is the key or ends in ".key". */
function patternValue(patterns: Map<string, number>, module: string): number | undefined {
  for (const [key, value] of patterns) {
    if (module === key || module.endsWith(`.${key}`)) return value;
    try {
      if (new RegExp(`^(.*\\.)?(${key})$`).test(module)) return value;
    } catch {
      // Not a regular expression: the literal comparison above was the test.
    }
  }
  return undefined;
}

interface Half {
  tensor: SafetensorsTensorInfo;
  module: string;
  side: 'a' | 'b';
  embedding: boolean;
}

/** Reads an adapter directory's config and tensor list. The caller closes `weights`. */
export function readAdapterDirectory(dir: string): AdapterDirectory {
  const format = detectAdapterDirectory(dir);
  if (!format) {
    throw new LoraError('ERR_LORA_NOT_ADAPTER', `${dir} is not a LoRA adapter directory: expected ${ADAPTER_CONFIG} with ${PEFT_WEIGHTS} (PEFT) or ${MLX_WEIGHTS} (MLX)`, { file: dir });
  }
  const configPath = join(dir, ADAPTER_CONFIG);
  const config = readConfig(configPath);
  if (format === 'peft' && !existsSync(join(dir, PEFT_WEIGHTS))) {
    throw new LoraError('ERR_LORA_UNSUPPORTED', `${PEFT_PICKLE} is a pickle, which gguf-forge does not execute; save the adapter with safe_serialization=True (${PEFT_WEIGHTS})`, { file: join(dir, PEFT_PICKLE) });
  }
  const weightsPath = join(dir, format === 'peft' ? PEFT_WEIGHTS : MLX_WEIGHTS);
  const weights = SafetensorsFile.open(weightsPath);
  try {
    const halves: Half[] = [];
    const skipped: string[] = [];
    for (const tensor of [...weights.tensors].sort((x, y) => compareUtf8(x.name, y.name))) {
      const half = classify(tensor, format, weightsPath);
      if (half === 'skip') skipped.push(tensor.name);
      else halves.push(half);
    }
    const byModule = new Map<string, { a?: Half; b?: Half }>();
    for (const h of halves) {
      const entry = byModule.get(h.module) ?? {};
      entry[h.side] = h;
      byModule.set(h.module, entry);
    }

    let scaleOf: (module: string, rank: number) => number;
    let baseModel: string | undefined;
    if (format === 'peft') {
      const peftType = config.peft_type;
      if (peftType !== undefined && peftType !== 'LORA') throw new LoraError('ERR_LORA_UNSUPPORTED', `peft_type ${JSON.stringify(peftType)} is not LORA`, { file: configPath });
      if (config.use_dora === true) throw new LoraError('ERR_LORA_UNSUPPORTED', 'DoRA adapters (use_dora) have a magnitude vector a GGUF LoRA cannot hold', { file: configPath });
      const alpha = positiveNumber(config.lora_alpha, 'lora_alpha', configPath);
      const alphas = patternMap(config.alpha_pattern, 'alpha_pattern', configPath);
      const rs = config.use_rslora === true;
      // PEFT scales by alpha / r, or alpha / sqrt(r) with rsLoRA; alpha_pattern overrides per module.
      scaleOf = (module, rank) => {
        const a = patternValue(alphas, module.replace(/\.weight$/, '')) ?? alpha;
        return rs ? a / Math.sqrt(rank) : a / rank;
      };
      if (typeof config.base_model_name_or_path === 'string') baseModel = config.base_model_name_or_path;
    } else {
      const params = config.lora_parameters;
      if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new LoraError('ERR_LORA_CONFIG', 'adapter_config.json has no lora_parameters object', { file: configPath });
      const p = params as Record<string, unknown>;
      if (config.use_dora === true || config.fine_tune_type === 'dora') throw new LoraError('ERR_LORA_UNSUPPORTED', 'DoRA adapters have a magnitude vector a GGUF LoRA cannot hold', { file: configPath });
      // mlx-lm applies `scale` itself (y += scale·(x·a)·b); older configs also carry alpha = scale·rank.
      if (p.scale !== undefined) {
        const scale = positiveNumber(p.scale, 'lora_parameters.scale', configPath);
        scaleOf = () => scale;
      } else {
        const alpha = positiveNumber(p.alpha, 'lora_parameters.alpha (or scale)', configPath);
        scaleOf = (_m, rank) => alpha / rank;
      }
      if (typeof config.model === 'string') baseModel = config.model;
    }

    const modules: AdapterModule[] = [];
    for (const [module, { a, b }] of byModule) {
      if (!a || !b) {
        const have = (a ?? b)!.tensor.name;
        throw new LoraError('ERR_LORA_TENSOR', `${have} has no lora_${a ? 'B' : 'A'} partner`, { file: weightsPath, tensor: have });
      }
      for (const t of [a.tensor, b.tensor]) {
        if (t.shape.length !== 2) throw new LoraError('ERR_LORA_TENSOR', `${t.name} has shape [${t.shape.join(', ')}]: expected a matrix`, { file: weightsPath, tensor: t.name });
        if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16') throw new LoraError('ERR_LORA_TENSOR', `${t.name} is ${t.dtype}: only F32, F16 and BF16 adapters are converted`, { file: weightsPath, tensor: t.name });
      }
      // PEFT: A (r, n_in), B (n_out, r); MLX: a (n_in, r), b (r, n_out).
      const rankA = format === 'peft' ? a.tensor.shape[0]! : a.tensor.shape[1]!;
      const rankB = format === 'peft' ? b.tensor.shape[1]! : b.tensor.shape[0]!;
      if (rankA !== rankB || rankA === 0) {
        throw new LoraError('ERR_LORA_TENSOR', `${a.tensor.name} [${a.tensor.shape.join(', ')}] and ${b.tensor.name} [${b.tensor.shape.join(', ')}] disagree on the rank`, { file: weightsPath, tensor: a.tensor.name });
      }
      modules.push({ hfName: module, a: a.tensor, b: b.tensor, embedding: a.embedding, rank: rankA, intendedScale: scaleOf(module, rankA) });
    }
    if (modules.length === 0) throw new LoraError('ERR_LORA_TENSOR', `${weightsPath} holds no LoRA tensors`, { file: weightsPath });
    const first = modules[0]!;
    const alpha = first.intendedScale * first.rank;
    return { dir, format, configPath, weights, config, alpha, modules, skipped, baseModel };
  } catch (e) {
    weights.close();
    throw e;
  }
}

function classify(tensor: SafetensorsTensorInfo, format: AdapterFormat, file: string): Half | 'skip' {
  const name = tensor.name;
  if (format === 'mlx') {
    const m = /^(.+)\.lora_([ab])$/.exec(name);
    if (m) return { tensor, module: `${m[1]}.weight`, side: m[2] as 'a' | 'b', embedding: false };
    throw new LoraError('ERR_LORA_UNSUPPORTED', `${name} is not an MLX lora_a / lora_b tensor (DoRA magnitudes and full weights are not LoRA)`, { file, tensor: name });
  }
  const stripped = name.startsWith('base_model.model.') ? name.slice('base_model.model.'.length) : name;
  let m = /^(.+)\.lora_([AB])\.weight$/.exec(stripped);
  if (m) return { tensor, module: `${m[1]}.weight`, side: m[2] === 'A' ? 'a' : 'b', embedding: false };
  // mergekit-extract-lora stores embedding deltas as lora_embedding_A / _B.
  m = /^(.+)\.lora_embedding_([AB])$/.exec(stripped);
  if (m) return { tensor, module: `${m[1]}.weight`, side: m[2] === 'A' ? 'a' : 'b', embedding: true };
  if (stripped.includes('.base_layer.weight')) return 'skip';
  // mergekit's norm copies: llama.cpp's loader skips *_norm tensors in adapters.
  if (stripped.includes('_layernorm') || stripped.includes('.norm')) return 'skip';
  const hint = stripped.includes('embed_tokens') || stripped.includes('lm_head') ? ' (full embedding / lm_head weights: the vocabulary was resized while fine-tuning, which a LoRA cannot express)' : '';
  throw new LoraError('ERR_LORA_UNSUPPORTED', `${name} is not a lora_A / lora_B tensor${hint}`, { file, tensor: name });
}
