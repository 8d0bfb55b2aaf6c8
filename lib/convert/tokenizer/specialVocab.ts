// gguf-py's SpecialVocab: merges, special token ids, add_*_token flags and the chat template, read
// from tokenizer.json, tokenizer_config.json, chat_template.jinja/json and config.json with the same
// precedence and quirks (e.g. a special token given as an object in tokenizer_config.json does not
// match TemplateProcessing's id, ids come only from tokenizer.json's added_tokens or config.json).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KvBuilder } from '../kv.js';
import { readJsonObject, readMergesTxt, type Json } from './hfFiles.js';

export const DEFAULT_SPECIAL_TYPES = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'] as const;

export type ChatTemplate = string | { name: string; template: string }[];

export interface SpecialVocab {
  merges: string[];
  /** Insertion-ordered: the order the keys are written in. */
  specialTokenIds: Map<string, number>;
  addSpecialToken: Map<string, boolean>;
  chatTemplate: ChatTemplate | undefined;
  normalizerLowercase: boolean;
}

export interface SpecialVocabOptions {
  loadMerges?: boolean;
  types?: readonly string[];
  /** Ids at or above this are ignored (with a warning in gguf-py). */
  nVocab?: number;
}

/** The GGUF key of each special token id that gguf-py's writer has a handler for. */
const ID_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.bos_token_id',
  eos: 'tokenizer.ggml.eos_token_id',
  unk: 'tokenizer.ggml.unknown_token_id',
  sep: 'tokenizer.ggml.seperator_token_id',
  pad: 'tokenizer.ggml.padding_token_id',
  mask: 'tokenizer.ggml.mask_token_id',
  eot: 'tokenizer.ggml.eot_token_id',
  eom: 'tokenizer.ggml.eom_token_id',
};
const ADD_KEYS: Record<string, string> = {
  bos: 'tokenizer.ggml.add_bos_token',
  eos: 'tokenizer.ggml.add_eos_token',
  sep: 'tokenizer.ggml.add_sep_token',
};

/** Python truthiness of the JSON values these files hold. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function specialId(item: unknown): unknown {
  const st = (item as Json | undefined)?.SpecialToken as Json | undefined;
  return st?.id;
}

function sequenceId(item: unknown): unknown {
  return ((item as Json | undefined)?.Sequence as Json | undefined)?.id;
}

export function setSpecialToken(sv: SpecialVocab, nVocab: number | undefined, typ: string, tid: unknown): void {
  if (typeof tid !== 'number' || !Number.isInteger(tid)) return;
  if (tid < 0) throw new RangeError(`invalid value for special token type ${typ}: ${tid}`);
  if (nVocab === undefined || tid < nVocab) {
    if (!sv.specialTokenIds.has(typ)) sv.specialTokenIds.set(typ, tid);
  }
}

export function loadSpecialVocab(dir: string, options: SpecialVocabOptions = {}): SpecialVocab {
  const sv: SpecialVocab = { merges: [], specialTokenIds: new Map(), addSpecialToken: new Map(), chatTemplate: undefined, normalizerLowercase: false };
  let types = [...(options.types ?? DEFAULT_SPECIAL_TYPES)];
  const tokenizer = readJsonObject(dir, 'tokenizer.json');
  let addedTokens: Json[] = [];
  if (tokenizer) {
    if (options.loadMerges) {
      const merges = (tokenizer.model as Json | undefined)?.merges;
      if (Array.isArray(merges) && merges.length) {
        if (typeof merges[0] === 'string') sv.merges = merges as string[];
        else if (Array.isArray(merges[0]) && merges[0].length === 2 && typeof merges[0][0] === 'string') {
          // Spaces inside a merge part are written as U+0120, as gguf-py does.
          sv.merges = (merges as string[][]).map((pair) => pair.map((part) => part.replaceAll(' ', '\u0120')).join(' '));
        } else throw new RangeError('Unknown tokenizer merges format');
      }
    }
    if (tokenizer.normalizer) parseNormalizer(sv, tokenizer.normalizer as Json);
    addedTokens = Array.isArray(tokenizer.added_tokens) ? (tokenizer.added_tokens as Json[]) : [];
  }
  const config = readJsonObject(dir, 'tokenizer_config.json');
  if (tokenizer) {
    let specialBos = config?.bos_token;
    let specialCls = config?.cls_token;
    let specialEos = config?.eos_token;
    let specialSep = config?.sep_token;
    if (!truthy(specialBos) && truthy(specialCls) && config) config.bos_token = specialBos = specialCls;
    if (!truthy(specialEos) && truthy(specialSep) && config) config.eos_token = specialEos = specialSep;
    const post = tokenizer.post_processor as Json | undefined | null;
    if (truthy(post)) {
      const processors = (post as Json).processors ?? [post];
      for (const processor of processors as Json[]) {
        if (processor.type === 'RobertaProcessing') {
          sv.addSpecialToken.set('bos', true);
          sv.addSpecialToken.set('eos', true);
          sv.addSpecialToken.set('sep', true);
          if (!truthy(specialCls) && config) config.cls_token = specialCls = ((processor.cls as unknown[]) ?? [specialBos])[0];
          if (!truthy(specialSep) && config) config.sep_token = specialSep = ((processor.sep as unknown[]) ?? [specialEos])[0];
          continue;
        }
        if (processor.type !== 'TemplateProcessing') continue;
        const single = (processor.single as unknown[]) ?? [];
        let pair = (processor.pair as unknown[]) ?? [];
        let specialFirst: unknown;
        let specialLast: unknown;
        if (single.length > 1) {
          specialFirst = specialId(single[0]);
          if (truthy(specialFirst)) {
            if (!truthy(config)) specialBos = specialFirst;
            sv.addSpecialToken.set('bos', specialFirst === specialBos || specialFirst === specialCls);
          }
          specialLast = specialId(single[single.length - 1]);
          if (truthy(specialLast)) {
            if (!truthy(config)) specialEos = specialLast;
            else if (specialLast !== specialEos && config) {
              if (!types.includes('eot')) {
                types = [...types, 'eot'];
                config.eot_token = specialEos;
              } else if (!types.includes('eom')) {
                types = [...types, 'eom'];
                config.eom_token = specialEos;
              }
              config.eos_token = specialEos = specialLast;
            }
            sv.addSpecialToken.set('eos', specialLast === specialEos);
          }
        }
        if (pair.length) {
          const seqStart = truthy(specialFirst) && specialId(pair[0]) === specialFirst ? 1 : 0;
          const seqStop = truthy(specialLast) && specialId(pair[pair.length - 1]) === specialLast ? pair.length - 1 : pair.length;
          pair = pair.slice(seqStart, seqStop);
          if (pair.length) {
            const a = sequenceId(pair[0]);
            const b = sequenceId(pair[pair.length - 1]);
            const middle = pair.slice(1, -1);
            if (a === 'A' && b === 'B' && middle.length) {
              let addSep = false;
              const first = specialId(middle[0]);
              if (truthy(first) && (first === specialSep || first === specialEos) && !truthy(specialLast)) addSep = true;
              if (middle.length === 2) {
                const second = specialId(middle[1]);
                if (truthy(second) && (second === specialSep || second === specialEos)) addSep = true;
              }
              sv.addSpecialToken.set('sep', addSep);
              if (addSep && !truthy(specialSep) && config) config.sep_token = specialEos;
            }
          }
        }
      }
    }
  }
  if (truthy(config)) {
    const c = config as Json;
    let alt: ChatTemplate | undefined;
    const jinja = join(dir, 'chat_template.jinja');
    const jsonPath = join(dir, 'chat_template.json');
    if (existsSync(jinja)) {
      alt = readFileSync(jinja, 'utf8');
      const extraDir = join(dir, 'additional_chat_templates');
      const extra = existsSync(extraDir) ? readdirSync(extraDir).filter((f) => f.endsWith('.jinja')).sort() : [];
      if (extra.length) {
        alt = [{ name: 'default', template: alt }, ...extra.map((f) => ({ name: f.slice(0, -'.jinja'.length), template: readFileSync(join(extraDir, f), 'utf8') }))];
      }
    } else if (existsSync(jsonPath)) {
      const t = readJsonObject(dir, 'chat_template.json')?.chat_template;
      if (typeof t === 'string' || Array.isArray(t)) alt = t as ChatTemplate;
    }
    const template = 'chat_template' in c ? c.chat_template : alt;
    if (typeof template === 'string' || Array.isArray(template)) sv.chatTemplate = template as ChatTemplate;
    for (const typ of types) {
      const add = c[`add_${typ}_token`];
      if (typeof add === 'boolean') sv.addSpecialToken.set(typ, add);
      const entry = c[`${typ}_token`];
      let content: string;
      if (typeof entry === 'string') content = entry;
      else if (typeof entry === 'object' && entry !== null && typeof (entry as Json).content === 'string') content = (entry as Json).content as string;
      else continue;
      const match = addedTokens.find((t) => t.content === content);
      setSpecialToken(sv, options.nVocab, typ, match?.id);
    }
  }
  const modelConfig = readJsonObject(dir, 'config.json');
  if (modelConfig) {
    for (const typ of types) {
      let tid = modelConfig[`${typ}_token_id`];
      if ((tid === undefined || tid === null) && typeof modelConfig.text_config === 'object' && modelConfig.text_config !== null) tid = (modelConfig.text_config as Json)[`${typ}_token_id`];
      setSpecialToken(sv, options.nVocab, typ, tid);
    }
  }
  if (options.loadMerges && sv.merges.length === 0 && existsSync(join(dir, 'merges.txt'))) sv.merges = readMergesTxt(join(dir, 'merges.txt'));
  return sv;
}

function parseNormalizer(sv: SpecialVocab, normalizer: Json): void {
  if (normalizer.type === 'Lowercase') sv.normalizerLowercase = true;
  else if (normalizer.type === 'BertNormalizer') {
    if (normalizer.lowercase !== false) sv.normalizerLowercase = true;
  } else if (normalizer.type === 'Sequence') for (const n of (normalizer.normalizers as Json[]) ?? []) parseNormalizer(sv, n);
}

/** The keys gguf-py's SpecialVocab.add_to_gguf writes, in its order. */
export function addSpecialVocab(sv: SpecialVocab, kv: KvBuilder): void {
  if (sv.merges.length) kv.stringArray('tokenizer.ggml.merges', sv.merges);
  for (const [typ, id] of sv.specialTokenIds) {
    const key = ID_KEYS[typ];
    if (key) kv.uint32(key, id);
  }
  for (const [typ, value] of sv.addSpecialToken) {
    const key = ADD_KEYS[typ];
    if (key) kv.bool(key, value);
  }
  if (sv.chatTemplate !== undefined) addChatTemplate(kv, sv.chatTemplate);
  if (sv.normalizerLowercase) kv.bool('tokenizer.ggml.normalizer.lowercase', true);
}

export function addChatTemplate(kv: KvBuilder, value: ChatTemplate): void {
  if (typeof value === 'string') {
    kv.string('tokenizer.chat_template', value);
    return;
  }
  let fallback: string | undefined;
  const names: string[] = [];
  for (const choice of value) {
    const name = String(choice?.name ?? '').replace(/[^A-Za-z0-9]/g, '_');
    const template = choice?.template;
    if (name && typeof template === 'string') {
      if (name === 'default') fallback = template;
      else {
        if (!names.includes(name)) names.push(name);
        kv.string(`tokenizer.chat_template.${name}`, template);
      }
    }
  }
  if (names.length) kv.stringArray('tokenizer.chat_templates', names);
  if (fallback !== undefined) kv.string('tokenizer.chat_template', fallback);
}
