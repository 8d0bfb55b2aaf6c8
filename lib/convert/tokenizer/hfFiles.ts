// Reading a Hugging Face model directory's tokenizer files: tokenizer.json (a "fast" tokenizer),
// vocab.json + merges.txt (a "slow" GPT-2-style one), tokenizer_config.json, added_tokens.json,
// chat_template.jinja/json. Every file is JSON-checked and size-limited; a file that is present but
// malformed is an error, never silently skipped.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConvertError } from '../errors.js';
import type { AddedToken, BpeTokenizerSpec } from './bpe.js';

/** tokenizer.json of the largest vocabularies is ~30 MB; anything far bigger is refused unread. */
const MAX_TOKENIZER_FILE_BYTES = 512 << 20;

export type Json = Record<string, unknown>;

export function readJsonFile(path: string, what: string): unknown {
  const size = statSync(path).size;
  if (size > MAX_TOKENIZER_FILE_BYTES) throw new ConvertError('ERR_CONVERT_TOKENIZER', `${what} is ${size} bytes, over the ${MAX_TOKENIZER_FILE_BYTES}-byte limit`, { file: path });
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConvertError('ERR_CONVERT_TOKENIZER', `${what} is not JSON: ${(e as Error).message}`, { file: path });
  }
}

export function readJsonObject(dir: string, name: string): Json | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  const json = readJsonFile(path, name);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConvertError('ERR_CONVERT_TOKENIZER', `${name} is not a JSON object`, { file: path });
  return json as Json;
}

function addedTokenList(value: unknown, file: string): AddedToken[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'added_tokens is not a list', { file });
  return value.map((t) => {
    const o = t as Json;
    if (typeof o !== 'object' || o === null || typeof o.content !== 'string' || !Number.isSafeInteger(o.id) || (o.id as number) < 0) {
      throw new ConvertError('ERR_CONVERT_TOKENIZER', `Malformed added token ${JSON.stringify(t)?.slice(0, 80)}`, { file });
    }
    return { id: o.id as number, content: o.content, special: o.special === true, normalized: o.normalized !== false };
  });
}

/** Merges as pairs, from the ["a b", …] or [["a", "b"], …] forms. */
function mergePairs(merges: unknown, file: string): [string, string][] {
  if (merges === undefined) return [];
  if (!Array.isArray(merges)) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'model.merges is not a list', { file });
  return merges.map((m) => {
    if (typeof m === 'string') {
      const sp = m.indexOf(' ');
      if (sp < 0) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Merge ${JSON.stringify(m)} has no space`, { file });
      return [m.slice(0, sp), m.slice(sp + 1)];
    }
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') return [m[0], m[1]];
    throw new ConvertError('ERR_CONVERT_TOKENIZER', `Unknown tokenizer merges format: ${JSON.stringify(m)?.slice(0, 80)}`, { file });
  });
}

function vocabMap(value: unknown, file: string): Map<string, number> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'vocab is not an object of token to id', { file });
  const map = new Map<string, number>();
  for (const [token, id] of Object.entries(value)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Token ${JSON.stringify(token)} has id ${JSON.stringify(id)}`, { file });
    map.set(token, id as number);
  }
  return map;
}

/** The Qwen2 pre-tokenizer pattern (transformers' Qwen2Tokenizer / Qwen2Converter). */
export const QWEN2_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface HfTokenizerFiles {
  dir: string;
  /** tokenizer.json, parsed, when present. */
  tokenizerJson?: Json;
  tokenizerConfig?: Json;
  /** The model section of tokenizer.json (or a stand-in for vocab.json + merges.txt). */
  modelType?: string;
}

/**
 * A BPE tokenizer spec from tokenizer.json, or from vocab.json + merges.txt as transformers'
 * AutoTokenizer reads them (GPT2Tokenizer and Qwen2Tokenizer, through their fast conversions).
 * Undefined when the directory has neither.
 */
export function loadBpeSpec(dir: string): (BpeTokenizerSpec & { source: string }) | undefined {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const config = readJsonObject(dir, 'tokenizer_config.json') ?? {};
  if (existsSync(tokenizerPath)) {
    const json = readJsonObject(dir, 'tokenizer.json') as Json;
    const model = json.model as Json | undefined;
    if (!model || model.type !== 'BPE') return undefined;
    return {
      source: tokenizerPath,
      vocab: vocabMap(model.vocab, tokenizerPath),
      merges: mergePairs(model.merges, tokenizerPath),
      addedTokens: addedTokenList(json.added_tokens, tokenizerPath),
      normalizer: json.normalizer ?? null,
      preTokenizer: json.pre_tokenizer ?? null,
      postProcessor: json.post_processor ?? null,
      ignoreMerges: model.ignore_merges === true,
    };
  }
  const vocabPath = join(dir, 'vocab.json');
  const mergesPath = join(dir, 'merges.txt');
  if (!existsSync(vocabPath) || !existsSync(mergesPath)) return undefined;
  const vocab = vocabMap(readJsonFile(vocabPath, 'vocab.json'), vocabPath);
  const merges = readMergesTxt(mergesPath).map((m) => m.split(' ') as [string, string]);
  const added = new Map<number, AddedToken>();
  const decoder = config.added_tokens_decoder;
  if (decoder !== undefined) {
    if (typeof decoder !== 'object' || decoder === null) throw new ConvertError('ERR_CONVERT_TOKENIZER', 'added_tokens_decoder is not an object', { file: join(dir, 'tokenizer_config.json') });
    for (const [id, t] of Object.entries(decoder as Json)) {
      const o = t as Json;
      if (!/^\d+$/.test(id) || typeof o?.content !== 'string') throw new ConvertError('ERR_CONVERT_TOKENIZER', `Malformed added_tokens_decoder entry ${id}`, { file: join(dir, 'tokenizer_config.json') });
      added.set(Number(id), { id: Number(id), content: o.content, special: o.special === true, normalized: o.normalized !== false });
    }
  }
  const addedJson = readJsonObject(dir, 'added_tokens.json');
  for (const [content, id] of Object.entries(addedJson ?? {})) {
    if (!Number.isSafeInteger(id)) throw new ConvertError('ERR_CONVERT_TOKENIZER', `added_tokens.json gives ${JSON.stringify(content)} the id ${JSON.stringify(id)}`, { file: join(dir, 'added_tokens.json') });
    if (!added.has(id as number)) added.set(id as number, { id: id as number, content, special: false, normalized: true });
  }
  const cls = config.tokenizer_class;
  const prefixSpace = config.add_prefix_space === true;
  let normalizer: unknown = null;
  let preTokenizer: unknown;
  if (cls === 'Qwen2Tokenizer' || cls === 'Qwen2TokenizerFast') {
    normalizer = { type: 'NFC' };
    preTokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: prefixSpace, use_regex: false },
      ],
    };
  } else if (cls === 'GPT2Tokenizer' || cls === 'GPT2TokenizerFast' || cls === undefined) {
    preTokenizer = { type: 'ByteLevel', add_prefix_space: prefixSpace, use_regex: true };
  } else {
    throw new ConvertError('ERR_CONVERT_TOKENIZER', `No tokenizer.json, and vocab.json + merges.txt of tokenizer_class ${JSON.stringify(cls)} cannot be read without it`, { file: vocabPath });
  }
  return { source: vocabPath, vocab, merges, addedTokens: [...added.values()], normalizer, preTokenizer, postProcessor: null };
}

/** merges.txt as llama.cpp's SpecialVocab reads it: a leading "#" line skipped, malformed lines ignored. */
export function readMergesTxt(path: string): string[] {
  const size = statSync(path).size;
  if (size > MAX_TOKENIZER_FILE_BYTES) throw new ConvertError('ERR_CONVERT_TOKENIZER', `merges.txt is ${size} bytes, over the limit`, { file: path });
  const lines = readFileSync(path, 'utf8').split(/\r?\n/);
  const start = (lines[0] ?? '').trim().startsWith('#') ? 1 : 0;
  const merges: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (!line) continue;
    const parts = line.split(/\s+/);
    if (parts.length !== 2) continue;
    merges.push(`${parts[0]} ${parts[1]}`);
  }
  return merges;
}
