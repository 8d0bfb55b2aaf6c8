// A byte-level BPE tokenizer that encodes text as Hugging Face `tokenizers` does for the models
// llama.cpp converts with tokenizer.ggml.model = gpt2: added tokens split out first, then the
// normalizer, the pre-tokenizer (regex splits + byte-to-unicode mapping), BPE merges by rank, and
// the post-processor's special tokens. Used to compute llama.cpp's pre-tokenizer hash (chkhsh).
import { translateRegex, UnsupportedRegexError } from './regexTranslate.js';

export class UnsupportedTokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTokenizerError';
  }
}

type Json = Record<string, unknown>;

export interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
  normalized?: boolean;
}

export interface BpeTokenizerSpec {
  vocab: ReadonlyMap<string, number>;
  /** Merge pairs in rank order. */
  merges: readonly (readonly [string, string])[];
  addedTokens: readonly AddedToken[];
  /** tokenizer.json "normalizer", "pre_tokenizer", "post_processor" (null when absent). */
  normalizer: unknown;
  preTokenizer: unknown;
  postProcessor: unknown;
  ignoreMerges?: boolean;
}

/** GPT-2's reversible byte → printable character map. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const map = new Array<string>(256);
  for (const b of bs) map[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (map[b] === undefined) map[b] = String.fromCodePoint(256 + n++);
  }
  return map;
}

const BYTE_CHARS = bytesToUnicode();
/** GPT-2's pre-tokenizer pattern, used by ByteLevel when use_regex is set. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

type Piece = string;

// ---- normalizers -------------------------------------------------------------------------------

function normalizerFn(spec: unknown): (s: string) => string {
  if (spec === null || spec === undefined) return (s) => s;
  const n = spec as Json;
  switch (n.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = n.type as 'NFC';
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return (s) => s.toLowerCase();
    case 'Sequence': {
      const fns = ((n.normalizers as unknown[]) ?? []).map(normalizerFn);
      return (s) => fns.reduce((acc, f) => f(acc), s);
    }
    case 'Prepend':
      return (s) => (s.length ? `${n.prepend as string}${s}` : s);
    case 'Replace': {
      const pattern = n.pattern as Json;
      if (typeof pattern.String !== 'string') throw new UnsupportedTokenizerError('Replace normalizer with a regex pattern');
      const from = pattern.String;
      return (s) => s.split(from).join(n.content as string);
    }
    default:
      throw new UnsupportedTokenizerError(`Normalizer ${String(n.type)}`);
  }
}

// ---- pre-tokenizers ----------------------------------------------------------------------------

/** Splits every piece by the pattern's matches, keeping the parts `behavior` keeps. */
function splitBy(regex: RegExp, behavior: string, invert: boolean): (p: Piece) => Piece[] {
  return (piece) => {
    const spans: { start: number; end: number; match: boolean }[] = [];
    let last = 0;
    regex.lastIndex = 0;
    for (const m of piece.matchAll(regex)) {
      const start = m.index as number;
      const end = start + m[0].length;
      if (start === end) continue;
      if (start > last) spans.push({ start: last, end: start, match: false });
      spans.push({ start, end, match: true });
      last = end;
    }
    if (last < piece.length) spans.push({ start: last, end: piece.length, match: false });
    if (invert) for (const s of spans) s.match = !s.match;
    const out: Piece[] = [];
    switch (behavior) {
      case 'Isolated':
        for (const s of spans) out.push(piece.slice(s.start, s.end));
        break;
      case 'Removed':
        for (const s of spans) if (!s.match) out.push(piece.slice(s.start, s.end));
        break;
      case 'MergedWithPrevious': {
        let cur = '';
        for (const s of spans) {
          cur += piece.slice(s.start, s.end);
          if (s.match) {
            out.push(cur);
            cur = '';
          }
        }
        if (cur) out.push(cur);
        break;
      }
      case 'MergedWithNext': {
        let cur = '';
        for (const s of spans) {
          if (s.match && cur) {
            out.push(cur);
            cur = '';
          }
          cur += piece.slice(s.start, s.end);
        }
        if (cur) out.push(cur);
        break;
      }
      case 'Contiguous': {
        let cur = '';
        let curMatch: boolean | undefined;
        for (const s of spans) {
          if (curMatch !== undefined && s.match !== curMatch) {
            out.push(cur);
            cur = '';
          }
          cur += piece.slice(s.start, s.end);
          curMatch = s.match;
        }
        if (cur) out.push(cur);
        break;
      }
      default:
        throw new UnsupportedTokenizerError(`Split behavior ${behavior}`);
    }
    return out.filter((p) => p.length > 0);
  };
}

function byteLevel(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += BYTE_CHARS[b];
  return out;
}

function preTokenizerFn(spec: unknown): (pieces: Piece[]) => Piece[] {
  if (spec === null || spec === undefined) return (p) => p;
  const n = spec as Json;
  try {
    switch (n.type) {
      case 'Sequence': {
        const fns = ((n.pretokenizers as unknown[]) ?? []).map(preTokenizerFn);
        return (p) => fns.reduce((acc, f) => f(acc), p);
      }
      case 'Split': {
        const pattern = n.pattern as Json;
        const regex =
          typeof pattern.Regex === 'string'
            ? translateRegex(pattern.Regex)
            : new RegExp((pattern.String as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gu');
        const split = splitBy(regex, n.behavior as string, n.invert === true);
        return (p) => p.flatMap(split);
      }
      case 'ByteLevel': {
        const split = n.use_regex === false ? undefined : splitBy(translateRegex(GPT2_PATTERN), 'Isolated', false);
        const prefix = n.add_prefix_space === true;
        return (p) =>
          p
            .map((x) => (prefix && !x.startsWith(' ') ? ` ${x}` : x))
            .flatMap((x) => (split ? split(x) : [x]))
            .map(byteLevel);
      }
      case 'Digits': {
        const split = splitBy(n.individual_digits ? /\p{N}/gu : /\p{N}+/gu, 'Isolated', false);
        return (p) => p.flatMap(split);
      }
      default:
        throw new UnsupportedTokenizerError(`Pre-tokenizer ${String(n.type)}`);
    }
  } catch (e) {
    if (e instanceof UnsupportedRegexError) throw new UnsupportedTokenizerError(`Pre-tokenizer regex: ${e.message}`);
    throw e;
  }
}

// ---- post-processors ---------------------------------------------------------------------------

function postProcessorFn(spec: unknown, idOf: (token: string) => number | undefined): (ids: number[]) => number[] {
  if (spec === null || spec === undefined) return (ids) => ids;
  const n = spec as Json;
  switch (n.type) {
    case 'ByteLevel':
      return (ids) => ids;
    case 'Sequence': {
      const fns = ((n.processors as unknown[]) ?? []).map((p) => postProcessorFn(p, idOf));
      return (ids) => fns.reduce((acc, f) => f(acc), ids);
    }
    case 'TemplateProcessing': {
      const specials = (n.special_tokens ?? {}) as Record<string, { ids?: number[] }>;
      const single = (n.single as Json[]) ?? [];
      return (ids) => {
        const out: number[] = [];
        for (const item of single) {
          if (item.Sequence) out.push(...ids);
          else if (item.SpecialToken) {
            const id = (item.SpecialToken as Json).id as string;
            out.push(...(specials[id]?.ids ?? []));
          }
        }
        return out;
      };
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = (n.cls as [string, number] | undefined)?.[1];
      const sep = (n.sep as [string, number] | undefined)?.[1];
      return (ids) => [...(cls === undefined ? [] : [cls]), ...ids, ...(sep === undefined ? [] : [sep])];
    }
    default:
      throw new UnsupportedTokenizerError(`Post-processor ${String(n.type)}`);
  }
}

// ---- the tokenizer -----------------------------------------------------------------------------

export class BpeTokenizer {
  readonly #vocab: ReadonlyMap<string, number>;
  readonly #ranks = new Map<string, number>();
  readonly #added: AddedToken[];
  readonly #normalize: (s: string) => string;
  readonly #preTokenize: (p: Piece[]) => Piece[];
  readonly #postProcess: (ids: number[]) => number[];
  readonly #ignoreMerges: boolean;
  readonly #cache = new Map<string, number[]>();

  constructor(spec: BpeTokenizerSpec) {
    this.#vocab = spec.vocab;
    spec.merges.forEach(([a, b], rank) => {
      const key = `${a} ${b}`;
      if (!this.#ranks.has(key)) this.#ranks.set(key, rank);
    });
    // Longest first, so a scan at one position finds the longest added token (leftmost-longest).
    this.#added = [...spec.addedTokens].filter((t) => t.content.length > 0).sort((a, b) => b.content.length - a.content.length);
    this.#normalize = normalizerFn(spec.normalizer);
    this.#preTokenize = preTokenizerFn(spec.preTokenizer);
    const addedIds = new Map(spec.addedTokens.map((t) => [t.content, t.id]));
    this.#postProcess = postProcessorFn(spec.postProcessor, (t) => addedIds.get(t) ?? spec.vocab.get(t));
    this.#ignoreMerges = spec.ignoreMerges === true;
  }

  /** Token ids of `text`, with the post-processor's special tokens when `addSpecialTokens`. */
  encode(text: string, addSpecialTokens = true): number[] {
    const ids: number[] = [];
    for (const part of this.#splitAdded(text)) {
      if (typeof part === 'number') {
        ids.push(part);
        continue;
      }
      for (const word of this.#preTokenize([this.#normalize(part)])) ids.push(...this.#bpe(word));
    }
    return addSpecialTokens ? this.#postProcess(ids) : ids;
  }

  /** Text split around added tokens (which become their ids). */
  #splitAdded(text: string): (string | number)[] {
    if (this.#added.length === 0) return [text];
    const out: (string | number)[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const hit = this.#added.find((t) => text.startsWith(t.content, i));
      if (hit) {
        if (i > start) out.push(text.slice(start, i));
        out.push(hit.id);
        i += hit.content.length;
        start = i;
      } else i++;
    }
    if (start < text.length) out.push(text.slice(start));
    return out;
  }

  #bpe(word: string): number[] {
    const cached = this.#cache.get(word);
    if (cached) return cached;
    let ids: number[];
    const whole = this.#vocab.get(word);
    if (this.#ignoreMerges && whole !== undefined) ids = [whole];
    else {
      let symbols = [...word];
      while (symbols.length > 1) {
        let best = -1;
        let bestRank = Infinity;
        for (let i = 0; i < symbols.length - 1; i++) {
          const rank = this.#ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
          if (rank !== undefined && rank < bestRank) {
            bestRank = rank;
            best = i;
          }
        }
        if (best < 0) break;
        const a = symbols[best] as string;
        const b = symbols[best + 1] as string;
        const merged: string[] = [];
        for (let i = 0; i < symbols.length; i++) {
          if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
            merged.push(a + b);
            i++;
          } else merged.push(symbols[i] as string);
        }
        symbols = merged;
      }
      // Symbols missing from the vocabulary are dropped, as tokenizers does without an unk token.
      ids = symbols.map((s) => this.#vocab.get(s)).filter((id): id is number => id !== undefined);
    }
    this.#cache.set(word, ids);
    return ids;
  }
}
