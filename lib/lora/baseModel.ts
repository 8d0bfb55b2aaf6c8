// What an adapter needs to know about its base model: the GGUF architecture, the block count (for
// name mapping), head counts (Llama's Q/K permutation) and, from a GGUF, every tensor's shape.
// The base is a GGUF model file, or a Hugging Face directory whose config.json names it.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { converterFor } from '../convert/architectures.js';
import { ConvertError } from '../convert/errors.js';
import { readModelConfig } from '../convert/hparams.js';
import { readGgufHeaderSync } from '../gguf/reader.js';
import type { GgufMetadataEntry } from '../gguf/types.js';
import { LoraError } from './errors.js';

export interface BaseModelInfo {
  path: string;
  kind: 'gguf' | 'config';
  /** general.architecture. */
  arch: string;
  blockCount: number;
  heads?: number;
  kvHeads?: number;
  /** GGUF bases: tensor name → ne (innermost first). */
  tensors?: Map<string, number[]>;
  metadata?: GgufMetadataEntry[];
}

function metaValue(metadata: GgufMetadataEntry[], key: string): unknown {
  return metadata.find((m) => m.key === key)?.value;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** Reads the base's architecture and shapes (a GGUF header, or config.json); no tensor data is read. */
export function readBaseModel(path: string): BaseModelInfo {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`Expected a base model path but received ${String(path)} of type ${typeof path}`);
  if (!existsSync(path)) throw new LoraError('ERR_LORA_BASE', `No such base model: ${path}`, { file: path });
  if (statSync(path).isDirectory()) return readConfigBase(path);
  const header = readGgufHeaderSync(path);
  const md = header.metadata;
  const arch = metaValue(md, 'general.architecture');
  if (typeof arch !== 'string') throw new LoraError('ERR_LORA_BASE', `${path} has no general.architecture`, { file: path });
  const type = metaValue(md, 'general.type');
  if (type === 'adapter') throw new LoraError('ERR_LORA_BASE', `${path} is an adapter, not a base model`, { file: path });
  const blockCount = positiveInt(metaValue(md, `${arch}.block_count`));
  if (blockCount === undefined) throw new LoraError('ERR_LORA_BASE', `${path} has no ${arch}.block_count`, { file: path });
  const heads = positiveInt(metaValue(md, `${arch}.attention.head_count`));
  const kvHeads = positiveInt(metaValue(md, `${arch}.attention.head_count_kv`)) ?? heads;
  const tensors = new Map(header.tensors.map((t) => [t.name, [...t.shape]]));
  return { path, kind: 'gguf', arch, blockCount, heads, kvHeads, tensors, metadata: md };
}

function readConfigBase(dir: string): BaseModelInfo {
  let config: Record<string, unknown>;
  let arch: string;
  try {
    config = readModelConfig(dir);
    const archs = config.architectures;
    arch = converterFor(Array.isArray(archs) ? archs[0] : undefined, join(dir, 'config.json')).arch;
  } catch (e) {
    if (e instanceof ConvertError) throw new LoraError(e.code === 'ERR_CONVERT_ARCH' ? 'ERR_LORA_ARCH' : 'ERR_LORA_BASE', e.message, { file: e.file ?? dir });
    throw e;
  }
  const text = config.text_config;
  const h = typeof text === 'object' && text !== null && !Array.isArray(text) ? { ...config, ...(text as Record<string, unknown>) } : config;
  const first = (...keys: string[]) => keys.map((k) => positiveInt(h[k])).find((v) => v !== undefined);
  const blockCount = first('num_hidden_layers', 'n_layers', 'n_layer', 'num_layers');
  if (blockCount === undefined) throw new LoraError('ERR_LORA_BASE', `config.json in ${dir} has no num_hidden_layers`, { file: join(dir, 'config.json') });
  const heads = first('num_attention_heads', 'n_heads', 'n_head');
  const kvHeads = first('num_key_value_heads', 'n_kv_heads') ?? heads;
  return { path: dir, kind: 'config', arch, blockCount, heads, kvHeads };
}
