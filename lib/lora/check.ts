// Does an adapter fit a base model? Checked before anything is written (convert, create, merge):
// the architectures agree, every adapter tensor targets a base tensor, and the dimensions fit the
// way llama.cpp's loader checks them (llama-adapter.cpp): base ne[0] = lora_a ne[0], base ne[1] =
// lora_b ne[1], lora_a ne[1] = lora_b ne[0]; for token_embd, base ne[0] = lora_b ne[1] and
// base ne[1] = lora_a ne[1]. The first mismatch is reported with both shapes.
import { statSync } from 'node:fs';
import { adapterFromDirectory, adapterFromGguf, type AdapterTensors } from './adapterTensors.js';
import { detectAdapterDirectory } from './adapterDirectory.js';
import { readBaseModel, type BaseModelInfo } from './baseModel.js';
import { LoraError } from './errors.js';
import type { AdapterCheckOptions } from './baseModelName.js';

export type { AdapterCheckOptions };


export interface AdapterCheck {
  adapter: string;
  base: string;
  format: AdapterTensors['format'];
  architecture: string;
  alpha: number;
  /** Adapted base tensors, in adapter order. */
  tensors: { name: string; rank: number; shape: number[] }[];
}

/** Opens an adapter path (GGUF LoRA file, or PEFT / MLX directory mapped onto `base`). */
export function openAdapter(path: string, base: BaseModelInfo, options: AdapterCheckOptions = {}): AdapterTensors {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`Expected an adapter path but received ${String(path)} of type ${typeof path}`);
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new LoraError('ERR_LORA_NOT_ADAPTER', `No such adapter: ${path}`, { file: path });
  }
  if (isDir) {
    if (!detectAdapterDirectory(path)) throw new LoraError('ERR_LORA_NOT_ADAPTER', `${path} is not a LoRA adapter directory (PEFT adapter_config.json + adapter_model.safetensors, or MLX adapters.safetensors)`, { file: path });
    return adapterFromDirectory(path, base, options);
  }
  return adapterFromGguf(path);
}

/** Throws the first mismatch between `adapter` and `base` (a LoraError naming the tensor and both shapes). */
export function checkPairs(adapter: AdapterTensors, base: BaseModelInfo): void {
  if (adapter.arch !== base.arch) {
    throw new LoraError('ERR_LORA_ARCH', `The adapter is for ${adapter.arch} models but the base ${base.path} is ${base.arch}`, { file: adapter.path });
  }
  const tensors = base.tensors;
  if (!tensors) return; // a config.json base: names and heads were checked while mapping
  for (const p of adapter.pairs) {
    const ne = tensors.get(p.base);
    if (!ne) {
      throw new LoraError('ERR_LORA_MISSING_TENSOR', `The adapter targets ${p.base} (from ${p.source}), which the base ${base.path} does not have`, { file: adapter.path, tensor: p.base });
    }
    const delta = p.embedding ? [p.bNe[1], p.aNe[1]] : [p.aNe[0], p.bNe[1]];
    const rankOk = p.embedding ? p.aNe[0] === p.bNe[0] : p.aNe[1] === p.bNe[0];
    const flat = ne.length <= 2 || ne.slice(2).every((d) => d === 1);
    if (!rankOk || !flat || ne[0] !== delta[0] || (ne[1] ?? 1) !== delta[1]) {
      throw new LoraError(
        'ERR_LORA_SHAPE',
        `Adapter tensor ${p.base} (lora_a [${p.aNe.join(', ')}], lora_b [${p.bNe.join(', ')}]) is a delta of shape [${delta.join(', ')}] but the base tensor is [${ne.join(', ')}]`,
        { file: adapter.path, tensor: p.base, adapterShape: delta, baseShape: [...ne] },
      );
    }
  }
}

/**
 * Checks that the adapter (a GGUF LoRA file or a PEFT / MLX directory) fits the base model (a GGUF
 * file, or a Hugging Face directory's config.json, which gives names but no shapes). Reads headers
 * only. Throws a LoraError (ERR_LORA_ARCH, ERR_LORA_MISSING_TENSOR, ERR_LORA_SHAPE, …) on the first
 * mismatch; returns what was checked.
 */
export function checkAdapterAgainstBase(adapterPath: string, basePath: string, options: AdapterCheckOptions = {}): AdapterCheck {
  const base = readBaseModel(basePath);
  const adapter = openAdapter(adapterPath, base, options);
  try {
    checkPairs(adapter, base);
    return {
      adapter: adapterPath,
      base: basePath,
      format: adapter.format,
      architecture: adapter.arch,
      alpha: adapter.alpha,
      tensors: adapter.pairs.map((p) => ({ name: p.base, rank: p.rank, shape: p.embedding ? [p.bNe[1], p.aNe[1]] : [p.aNe[0], p.bNe[1]] })),
    };
  } finally {
    adapter.close();
  }
}
