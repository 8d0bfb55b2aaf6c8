// config.json as llama.cpp's converter sees it: AutoConfig.from_pretrained(...).to_dict(), i.e. the
// file's fields over the transformers config class's defaults (those the converter reads), with
// the derived values the class's __post_init__ fills in (head_dim, num_key_value_heads), and
// text_config lifted to the top level.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvertError } from './errors.js';
import { readJsonFile } from './tokenizer/hfFiles.js';

export type Hparams = Record<string, unknown>;

export interface ConfigDefaults {
  defaults: Hparams;
  /** head_dim = hidden_size / num_attention_heads when null (Llama, Mistral, Mixtral). */
  deriveHeadDim?: boolean;
}

export function readModelConfig(dir: string): Hparams {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new ConvertError('ERR_CONVERT_CONFIG', `No config.json in ${dir}`, { file: path });
  let json: unknown;
  try {
    json = readJsonFile(path, 'config.json');
  } catch (e) {
    throw new ConvertError('ERR_CONVERT_CONFIG', (e as Error).message, { file: path });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConvertError('ERR_CONVERT_CONFIG', 'config.json is not a JSON object', { file: path });
  return json as Hparams;
}

/** The hparams dict for a config class: defaults, then config.json, then text_config on top. */
export function hparamsFor(config: Hparams, cls: ConfigDefaults): Hparams {
  let h: Hparams = { ...cls.defaults, ...config };
  const text = config.text_config;
  if (typeof text === 'object' && text !== null && !Array.isArray(text)) h = { ...h, ...(text as Hparams) };
  if ((h.num_key_value_heads === null || h.num_key_value_heads === undefined) && 'num_key_value_heads' in cls.defaults) h.num_key_value_heads = h.num_attention_heads;
  if (cls.deriveHeadDim && (h.head_dim === null || h.head_dim === undefined)) {
    const hidden = h.hidden_size as number;
    const heads = h.num_attention_heads as number;
    if (Number.isInteger(hidden) && Number.isInteger(heads) && heads > 0) h.head_dim = Math.floor(hidden / heads);
  }
  return h;
}

/** find_hparam: the value of the first key present (even when it is null), or undefined. */
export function findHparam(h: Hparams, keys: readonly string[]): unknown {
  for (const k of keys) if (k in h) return h[k];
  return undefined;
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** A positive integer hparam (first of `keys`), or a ConvertError naming it. */
export function intHparam(h: Hparams, keys: readonly string[], file?: string): number {
  const v = findHparam(h, keys);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ConvertError('ERR_CONVERT_CONFIG', `config.json: expected a non-negative integer for ${keys[0]} but found ${describe(v)}`, { file });
  return v;
}

export function numberHparam(h: Hparams, keys: readonly string[], file?: string): number {
  const v = findHparam(h, keys);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConvertError('ERR_CONVERT_CONFIG', `config.json: expected a number for ${keys[0]} but found ${describe(v)}`, { file });
  return v;
}

export function optionalNumber(h: Hparams, keys: readonly string[], file?: string): number | undefined {
  const v = findHparam(h, keys);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConvertError('ERR_CONVERT_CONFIG', `config.json: expected a number for ${keys[0]} but found ${describe(v)}`, { file });
  return v;
}

/** TextModel.rope_parameters: rope_parameters or rope_scaling, with rope_theta/rope_type mirrored in. */
export function ropeParameters(h: Hparams): Hparams {
  const src = h.rope_parameters ?? h.rope_scaling;
  const rp: Hparams = typeof src === 'object' && src !== null && !Array.isArray(src) ? { ...(src as Hparams) } : {};
  const theta = findHparam(h, ['global_rope_theta', 'rope_global_theta', 'rope_theta_global', 'rope_theta', 'rotary_emb_base']);
  const local = findHparam(h, ['local_rope_theta', 'rope_local_theta', 'rope_theta_local', 'swa_rope_theta', 'rope_local_base_freq']);
  if (!('full_attention' in rp) && !('sliding_attention' in rp)) {
    if (local !== undefined && local !== null) rp.sliding_attention = { rope_theta: local };
    if (!('rope_theta' in rp) && theta !== undefined && theta !== null) rp.rope_theta = theta;
    if (!('rope_type' in rp) && rp.type !== undefined && rp.type !== null) rp.rope_type = rp.type;
  }
  return rp;
}
