// The vocabulary writers of llama.cpp's converter (convert_hf_to_gguf.py _set_vocab_sentencepiece,
// _set_vocab_llama_hf, _set_vocab_gpt2 with get_vocab_base/get_vocab_base_pre, and Phi-3's own),
// producing the same tokenizer.* keys from the same files.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConvertError } from '../errors.js';
import type { KvBuilder } from '../kv.js';
import { BpeTokenizer, UnsupportedTokenizerError } from './bpe.js';
import { loadBpeSpec, readJsonObject, type Json } from './hfFiles.js';
import { CHKTXT, preTokenizerForHash } from './preTokenizerHashes.js';
import { PieceType, readSentencePieceModel } from './sentencepiece.js';
import { addSpecialVocab, loadSpecialVocab } from './specialVocab.js';

/** A tokenizer file the flavour needs is absent: the caller may try the next flavour (Python's FileNotFoundError). */
export class MissingTokenizerFile extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingTokenizerFile';
  }
}

export interface VocabOptions {
  /** tokenizer.ggml.pre to write when the BPE pre-tokenizer cannot be identified by its hash. */
  preTokenizer?: string;
}

export interface Vocab {
  tokens: string[];
  scores?: number[];
  types: number[];
}

const TokenType = PieceType;

/** TextModel.does_token_look_special. */
export function doesTokenLookSpecial(token: string): boolean {
  if (token === '<pad>' || token === '<mask>' || token === '<2mass>' || token === '[@BOS@]') return true;
  if (token.startsWith('<|') && token.endsWith('|>')) return true;
  if (token.startsWith('<｜') && token.endsWith('｜>')) return true;
  return token.startsWith('<unused') && token.endsWith('>');
}

function decoderEntries(dir: string): [number, Json][] {
  const decoder = readJsonObject(dir, 'tokenizer_config.json')?.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return [];
  if (typeof decoder !== 'object') throw new ConvertError('ERR_CONVERT_TOKENIZER', 'added_tokens_decoder is not an object', { file: join(dir, 'tokenizer_config.json') });
  return Object.entries(decoder as Json).map(([id, data]) => {
    const content = (data as Json | null)?.content;
    if (!/^\d+$/.test(id) || typeof content !== 'string') throw new ConvertError('ERR_CONVERT_TOKENIZER', `Malformed added_tokens_decoder entry ${id}`, { file: join(dir, 'tokenizer_config.json') });
    return [Number(id), data as Json];
  });
}

function addedTokensJson(dir: string): [string, number][] {
  const json = readJsonObject(dir, 'added_tokens.json');
  return Object.entries(json ?? {}).map(([key, id]) => {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new ConvertError('ERR_CONVERT_TOKENIZER', `added_tokens.json gives ${JSON.stringify(key)} the id ${JSON.stringify(id)}`, { file: join(dir, 'added_tokens.json') });
    return [key, id as number];
  });
}

/** _create_vocab_sentencepiece: tokenizer.model padded to vocabSize, then added_tokens.json and added_tokens_decoder. */
export function createVocabSentencePiece(dir: string, vocabSize: number | undefined): Required<Vocab> {
  const path = join(dir, 'tokenizer.model');
  if (!existsSync(path)) throw new MissingTokenizerFile(`File not found: ${path}`);
  const pieces = readSentencePieceModel(path);
  const n = vocabSize || pieces.length;
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const scores = new Array<number>(n).fill(-10000);
  const types = new Array<number>(n).fill(TokenType.UNUSED);
  for (let id = 0; id < pieces.length && id < n; id++) {
    const p = pieces[id]!;
    tokens[id] = p.piece;
    scores[id] = p.score;
    // User-defined pieces become NORMAL: the converter only asks IsUnknown/IsControl/IsUnused/IsByte.
    types[id] = p.type === TokenType.UNKNOWN || p.type === TokenType.CONTROL || p.type === TokenType.UNUSED || p.type === TokenType.BYTE ? p.type : TokenType.NORMAL;
  }
  for (const [key, id] of addedTokensJson(dir)) {
    if (id >= n) continue;
    tokens[id] = key;
    scores[id] = -1000;
    types[id] = TokenType.USER_DEFINED;
  }
  for (const [id, data] of decoderEntries(dir)) {
    if (id >= n) continue;
    let token = data.content as string;
    if (data.special === true || doesTokenLookSpecial(token)) types[id] = TokenType.CONTROL;
    else {
      token = token.replaceAll('\u2581', ' ');
      types[id] = TokenType.USER_DEFINED;
    }
    scores[id] = -1000;
    tokens[id] = token;
  }
  return { tokens, scores, types };
}

function writeLlamaVocab(kv: KvBuilder, dir: string, vocab: Required<Vocab>): void {
  kv.string('tokenizer.ggml.model', 'llama');
  kv.string('tokenizer.ggml.pre', 'default');
  kv.stringArray('tokenizer.ggml.tokens', vocab.tokens);
  kv.float32Array('tokenizer.ggml.scores', vocab.scores);
  kv.int32Array('tokenizer.ggml.token_type', vocab.types);
  addSpecialVocab(loadSpecialVocab(dir, { nVocab: vocab.tokens.length }), kv);
}

/** _set_vocab_sentencepiece. */
export function setVocabSentencePiece(kv: KvBuilder, dir: string, vocabSize: number | undefined): Vocab {
  const vocab = createVocabSentencePiece(dir, vocabSize);
  writeLlamaVocab(kv, dir, vocab);
  return vocab;
}

function specialTokenContents(dir: string): Set<string> {
  const out = new Set<string>();
  for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const json = readJsonObject(dir, file);
    if (!json) continue;
    for (const typ of ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask']) {
      const v = json[`${typ}_token`];
      const content = typeof v === 'string' ? v : typeof (v as Json | null)?.content === 'string' ? ((v as Json).content as string) : undefined;
      if (content) out.add(content);
    }
    const extra = json.additional_special_tokens;
    if (Array.isArray(extra)) for (const v of extra) {
      const content = typeof v === 'string' ? v : (v as Json | null)?.content;
      if (typeof content === 'string') out.add(content);
    }
  }
  return out;
}

/** LlamaHfVocab: a SentencePiece-style BPE tokenizer.json (byte_fallback) without tokenizer.model. */
export function setVocabLlamaHf(kv: KvBuilder, dir: string): Vocab {
  const json = readJsonObject(dir, 'tokenizer.json');
  if (!json) throw new MissingTokenizerFile(`File not found: ${join(dir, 'tokenizer.json')}`);
  const model = (json.model ?? {}) as Json;
  if (model.type === 'BPE' && model.ignore_merges === true && model.byte_fallback !== true) throw new MissingTokenizerFile('Llama 3 must be converted with BpeVocab');
  if (model.type !== 'BPE' || model.byte_fallback !== true || (json.decoder as Json | undefined)?.type !== 'Sequence') throw new MissingTokenizerFile('Cannot find Llama BPE tokenizer');
  const spec = loadBpeSpec(dir)!;
  const base = spec.vocab.size;
  const byId = new Map<number, string>();
  for (const [t, id] of spec.vocab) byId.set(id, t);
  for (const t of spec.addedTokens) byId.set(t.id, t.content);
  const specials = specialTokenContents(dir);
  const idOf = (content: string) => spec.addedTokens.find((t) => t.content === content)?.id ?? spec.vocab.get(content);
  const specialIds = new Set([...specials].map(idOf).filter((id): id is number => id !== undefined));
  const tokens: string[] = [];
  const types: number[] = [];
  for (let id = 0; id < base; id++) {
    const text = byId.get(id);
    if (text === undefined) throw new ConvertError('ERR_CONVERT_TOKENIZER', `tokenizer.json has no token with id ${id} below its vocabulary size ${base}`, { file: join(dir, 'tokenizer.json') });
    tokens.push(text);
    types.push(/^<0x[0-9A-Fa-f]{2}>$/.test(text) ? TokenType.BYTE : specialIds.has(id) ? TokenType.CONTROL : TokenType.NORMAL);
  }
  for (const t of [...spec.addedTokens].filter((t) => t.id >= base).sort((a, b) => a.id - b.id)) {
    tokens.push(t.content);
    types.push(specials.has(t.content) ? TokenType.CONTROL : TokenType.USER_DEFINED);
  }
  const vocab = { tokens, scores: new Array<number>(tokens.length).fill(-1000), types };
  writeLlamaVocab(kv, dir, vocab);
  return vocab;
}

/** chkhsh: sha256 of Python's str() of the ids the tokenizer gives for CHKTXT. */
export function preTokenizerHash(tokenizer: BpeTokenizer): string {
  return createHash('sha256').update(`[${tokenizer.encode(CHKTXT).join(', ')}]`).digest('hex');
}

/** get_vocab_base + get_vocab_base_pre, then the gpt2 keys and SpecialVocab with merges. */
export function setVocabGpt2(kv: KvBuilder, dir: string, vocabSize: number | undefined, options: VocabOptions = {}): Vocab {
  const spec = loadBpeSpec(dir);
  if (!spec) throw new ConvertError('ERR_CONVERT_TOKENIZER', `No tokenizer in ${dir}: expected tokenizer.model, a BPE tokenizer.json, or vocab.json + merges.txt`, { file: dir });
  const byId = new Map<number, string>();
  for (const [t, id] of spec.vocab) byId.set(id, t);
  const addedByContent = new Map<string, (typeof spec.addedTokens)[number]>();
  for (const t of spec.addedTokens) {
    byId.set(t.id, t.content);
    addedByContent.set(t.content, t);
  }
  const distinct = new Set([...spec.vocab.keys(), ...addedByContent.keys()]).size;
  const n = vocabSize ?? distinct;
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  if (maxId >= n) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Token id ${maxId} is not below the vocabulary size ${n}`, { file: spec.source });

  let pre: string | undefined;
  let hash: string | undefined;
  try {
    hash = preTokenizerHash(new BpeTokenizer(spec));
    pre = preTokenizerForHash(hash);
  } catch (e) {
    if (!(e instanceof UnsupportedTokenizerError)) throw e;
    if (!options.preTokenizer) throw new ConvertError('ERR_CONVERT_PRETOKENIZER', `Cannot identify the BPE pre-tokenizer: ${e.message} is not supported; pass preTokenizer to name it`, { file: spec.source });
  }
  if (!pre) {
    if (!options.preTokenizer) {
      throw new ConvertError('ERR_CONVERT_PRETOKENIZER', `BPE pre-tokenizer was not recognized (chkhsh ${hash}): llama.cpp does not know it either; pass preTokenizer to name one`, { file: spec.source });
    }
    pre = options.preTokenizer;
  }

  const tokens: string[] = [];
  const types: number[] = [];
  for (let i = 0; i < n; i++) {
    let token = byId.get(i);
    if (token === undefined) {
      tokens.push(`[PAD${i}]`);
      types.push(TokenType.UNUSED);
      continue;
    }
    const added = addedByContent.get(token);
    if (added) {
      if (added.special === true || doesTokenLookSpecial(token)) types.push(TokenType.CONTROL);
      else {
        token = token.replaceAll('\u2581', ' ');
        types.push(TokenType.USER_DEFINED);
      }
    } else types.push(TokenType.NORMAL);
    tokens.push(token);
  }
  kv.string('tokenizer.ggml.model', 'gpt2');
  kv.string('tokenizer.ggml.pre', pre);
  kv.stringArray('tokenizer.ggml.tokens', tokens);
  kv.int32Array('tokenizer.ggml.token_type', types);
  addSpecialVocab(loadSpecialVocab(dir, { loadMerges: true }), kv);
  return { tokens, types };
}

/** Phi3MiniModel.set_vocab: tokenizer.model, then added_tokens.json, added_tokens_decoder and tokenizer.json's added_tokens. */
export function setVocabPhi3(kv: KvBuilder, dir: string, vocabSize: number | undefined, options: VocabOptions = {}): Vocab {
  const config = readJsonObject(dir, 'tokenizer_config.json');
  if (config?.tokenizer_class === 'GPT2Tokenizer') return setVocabGpt2(kv, dir, vocabSize, options);
  const path = join(dir, 'tokenizer.model');
  if (!existsSync(path)) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Missing ${path}: Phi-3 is converted from its SentencePiece model`, { file: path });
  const pieces = readSentencePieceModel(path);
  const n = vocabSize ?? pieces.length;
  const tokens = Array.from({ length: n }, (_, i) => `[PAD${i}]`);
  const scores = new Array<number>(n).fill(-10000);
  const types = new Array<number>(n).fill(TokenType.UNUSED);
  for (let id = 0; id < pieces.length; id++) {
    if (id >= n) throw new ConvertError('ERR_CONVERT_TOKENIZER', `tokenizer.model has ${pieces.length} pieces, more than vocab_size ${n}`, { file: path });
    const p = pieces[id]!;
    tokens[id] = p.piece;
    scores[id] = p.score;
    types[id] = p.type === TokenType.UNKNOWN || p.type === TokenType.CONTROL || p.type === TokenType.UNUSED || p.type === TokenType.BYTE ? p.type : TokenType.NORMAL;
  }
  for (const [key, id] of addedTokensJson(dir)) {
    if (id >= n) continue;
    tokens[id] = key;
    scores[id] = -1000;
    types[id] = TokenType.USER_DEFINED;
  }
  const apply = (id: number, content: string, special: boolean, file: string) => {
    if (id >= n) throw new ConvertError('ERR_CONVERT_TOKENIZER', `Added token ${JSON.stringify(content)} has id ${id}, not below vocab_size ${n}`, { file });
    tokens[id] = content;
    scores[id] = -1000;
    types[id] = special ? TokenType.CONTROL : TokenType.USER_DEFINED;
  };
  for (const [id, data] of decoderEntries(dir)) apply(id, data.content as string, data.special === true, join(dir, 'tokenizer_config.json'));
  const tokenizerJson = readJsonObject(dir, 'tokenizer.json');
  const added = tokenizerJson?.added_tokens;
  if (Array.isArray(added)) {
    for (const t of added as Json[]) {
      if (!Number.isSafeInteger(t?.id) || typeof t.content !== 'string') throw new ConvertError('ERR_CONVERT_TOKENIZER', 'Malformed added token in tokenizer.json', { file: join(dir, 'tokenizer.json') });
      apply(t.id as number, t.content, t.special === true, join(dir, 'tokenizer.json'));
    }
  }
  const vocab = { tokens, scores, types };
  writeLlamaVocab(kv, dir, vocab);
  return vocab;
}
