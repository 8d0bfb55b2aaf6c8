// Our tokenizer conversion against llama.cpp's own: the vocabularies convert_hf_to_gguf wrote into
// llama.cpp's ggml-vocab-*.gguf files (tokens, scores, types, merges, special ids) equal ours from the
// same tokenizer files, and llama.cpp tokenizes the .inp texts to the .out ids with our vocabulary.
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { KvBuilder } from '../../lib/convert/kv.js';
import { BpeTokenizer } from '../../lib/convert/tokenizer/bpe.js';
import { loadBpeSpec } from '../../lib/convert/tokenizer/hfFiles.js';
import { preTokenizerForHash } from '../../lib/convert/tokenizer/preTokenizerHashes.js';
import { preTokenizerHash, setVocabGpt2, setVocabPhi3, setVocabSentencePiece } from '../../lib/convert/tokenizer/vocab.js';
import { readGgufHeaderSync } from '../../lib/gguf/reader.js';
import type { GgufMetadataEntry } from '../../lib/gguf/types.js';
import { writeGguf } from '../../lib/gguf/writer.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { scratch, TOKENIZERS } from './hfFixtures.js';
import { disposeRuntime, nlc, tokenizeWith } from './llamaRuntime.js';

afterAll(async () => {
  await disposeRuntime();
  rmSync(scratch, { recursive: true, force: true });
});

const vocabGguf = (name: string) => sharedData('gguf', 'llama.cpp-vocab', `ggml-vocab-${name}.gguf`);

let dirs = 0;
function dirWith(files: Record<string, string>, written: Record<string, string> = {}): string {
  const d = join(scratch, `vocab-${dirs++}`);
  mkdirSync(d, { recursive: true });
  for (const [name, src] of Object.entries(files)) symlinkSync(src, join(d, name));
  for (const [name, text] of Object.entries(written)) writeFileSync(join(d, name), text);
  return d;
}

function values(entries: GgufMetadataEntry[], key: string): unknown {
  const v = entries.find((e) => e.key === key)?.value;
  return v && typeof v === 'object' && 'items' in v ? Array.from((v as { items: ArrayLike<unknown> }).items) : v;
}

function firstDifference(a: unknown[], b: unknown[]): string {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  const i = a.findIndex((x, j) => x !== b[j]);
  return i < 0 ? 'equal' : `index ${i}: ${JSON.stringify(a[i])} vs ${JSON.stringify(b[i])}`;
}

/** The reference file's metadata with its tokenizer.* keys replaced by ours: a vocab-only GGUF llama.cpp can load. */
async function withOurVocab(reference: string, ours: KvBuilder, out: string): Promise<void> {
  const ref = readGgufHeaderSync(reference).metadata.filter((m) => !m.key.startsWith('tokenizer.'));
  await writeGguf(out, [...ref, ...ours.entries()], []);
}

/** llama.cpp's test-tokenizer-0 vectors: texts split by the separator line, one line of ids per text. */
function vectors(name: string): { texts: string[]; ids: number[][] } {
  const texts = readFileSync(`${vocabGguf(name)}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  texts.pop();
  const ids = readFileSync(`${vocabGguf(name)}.out`, 'utf8')
    .split('\n')
    .slice(0, texts.length)
    .map((l) => (l.trim() ? l.trim().split(/\s+/).map(Number) : []));
  return { texts, ids };
}

describe.skipIf(!sharedDataAvailable)('llama-spm: Llama 2 tokenizer.model', () => {
  const kv = new KvBuilder();
  test('tokens, scores, types and special ids equal llama.cpp\'s', () => {
    setVocabSentencePiece(kv, dirWith(TOKENIZERS.llama2), 32000);
    const ref = readGgufHeaderSync(vocabGguf('llama-spm')).metadata;
    const ours = kv.entries();
    for (const key of ['tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.unknown_token_id', 'tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token']) {
      const a = values(ours, key);
      const b = values(ref, key);
      if (Array.isArray(a)) expect(firstDifference(a, b as unknown[]), key).toBe('equal');
      else expect([key, a]).toEqual([key, b]);
    }
    // The file predates gguf-py's TemplateProcessing parsing, which now also writes add_sep_token = false.
    expect(values(ours, 'tokenizer.ggml.add_sep_token')).toBe(false);
    expect(values(ref, 'tokenizer.ggml.add_sep_token')).toBeUndefined();
  });

  test.skipIf(!nlc)('llama.cpp tokenizes the .inp texts to the .out ids with our vocabulary', async () => {
    const path = join(scratch, 'ours-llama-spm.gguf');
    await withOurVocab(vocabGguf('llama-spm'), kv, path);
    const { texts, ids } = vectors('llama-spm');
    expect(texts.length).toBeGreaterThan(40);
    const got = await tokenizeWith(path, texts);
    for (let i = 0; i < texts.length; i++) expect([JSON.stringify(texts[i]), got[i]]).toEqual([JSON.stringify(texts[i]), ids[i]]);
  });
});

describe.skipIf(!sharedDataAvailable)('phi-3: Llama 2 tokenizer.model + Phi-3 tokenizer.json/tokenizer_config.json', () => {
  const kv = new KvBuilder();
  test('tokens, scores and special ids equal llama.cpp\'s; types too, but for the padding tokens', () => {
    setVocabPhi3(kv, dirWith(TOKENIZERS.phi3), 32064);
    const ref = readGgufHeaderSync(vocabGguf('phi-3')).metadata;
    const ours = kv.entries();
    for (const key of ['tokenizer.ggml.model', 'tokenizer.ggml.pre', 'tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.unknown_token_id', 'tokenizer.ggml.padding_token_id']) {
      const a = values(ours, key);
      const b = values(ref, key);
      if (Array.isArray(a)) expect(firstDifference(a, b as unknown[]), key).toBe('equal');
      else expect([key, a]).toEqual([key, b]);
    }
    // Ids 32011..32063 are padding: the converter that wrote this file typed them UNKNOWN (2); today's writes UNUSED (5).
    const a = values(ours, 'tokenizer.ggml.token_type') as number[];
    const b = values(ref, 'tokenizer.ggml.token_type') as number[];
    expect(firstDifference(a.slice(0, 32011), b.slice(0, 32011))).toBe('equal');
    expect(new Set(a.slice(32011))).toEqual(new Set([5]));
    expect(new Set(b.slice(32011))).toEqual(new Set([2]));
  });

  test.skipIf(!nlc)('llama.cpp tokenizes the .inp texts to the .out ids with our vocabulary', async () => {
    const path = join(scratch, 'ours-phi-3.gguf');
    await withOurVocab(vocabGguf('phi-3'), kv, path);
    const { texts, ids } = vectors('phi-3');
    const got = await tokenizeWith(path, texts);
    for (let i = 0; i < texts.length; i++) expect([JSON.stringify(texts[i]), got[i]]).toEqual([JSON.stringify(texts[i]), ids[i]]);
  });
});

describe.skipIf(!sharedDataAvailable)('gpt-2: GPT-2 tokenizer.json', () => {
  const kv = new KvBuilder();
  test('tokens, types, merges, pre-tokenizer and special ids equal llama.cpp\'s', () => {
    // GPT-2's config.json (bos/eos 50256) is where those ids come from.
    setVocabGpt2(kv, dirWith(TOKENIZERS.gpt2, { 'config.json': JSON.stringify({ bos_token_id: 50256, eos_token_id: 50256 }) }), 50257);
    const ref = readGgufHeaderSync(vocabGguf('gpt-2')).metadata;
    const ours = kv.entries();
    expect(ours.map((e) => e.key)).toEqual(ref.filter((e) => e.key.startsWith('tokenizer.')).map((e) => e.key));
    for (const e of ours) {
      const a = values(ours, e.key);
      const b = values(ref, e.key);
      if (Array.isArray(a)) expect(firstDifference(a, b as unknown[]), e.key).toBe('equal');
      else expect([e.key, a]).toEqual([e.key, b]);
    }
  });

  test.skipIf(!nlc)('llama.cpp tokenizes the .inp texts to the .out ids with our vocabulary', async () => {
    const path = join(scratch, 'ours-gpt-2.gguf');
    await withOurVocab(vocabGguf('gpt-2'), kv, path);
    const { texts, ids } = vectors('gpt-2');
    const got = await tokenizeWith(path, texts);
    for (let i = 0; i < texts.length; i++) expect([JSON.stringify(texts[i]), got[i]]).toEqual([JSON.stringify(texts[i]), ids[i]]);
  });

  test('our BPE encoder reproduces the .out ids itself (the tokenizer behind the pre-tokenizer hash)', () => {
    const tok = new BpeTokenizer(loadBpeSpec(dirWith(TOKENIZERS.gpt2))!);
    const { texts, ids } = vectors('gpt-2');
    for (let i = 0; i < texts.length; i++) expect([JSON.stringify(texts[i]), tok.encode(texts[i] as string, false)]).toEqual([JSON.stringify(texts[i]), ids[i]]);
  });
});

describe.skipIf(!sharedDataAvailable)('pre-tokenizer hashes', () => {
  test('GPT-2 and Qwen2.5 hash to the values in llama.cpp\'s table', () => {
    const hash = (files: Record<string, string>) => preTokenizerHash(new BpeTokenizer(loadBpeSpec(dirWith(files))!));
    const gpt2 = hash(TOKENIZERS.gpt2);
    expect(gpt2).toBe('3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454');
    expect(preTokenizerForHash(gpt2)).toBe('gpt-2');
    // Qwen2.5 as vocab.json + merges.txt (no tokenizer.json): read as transformers' Qwen2Tokenizer.
    const qwen = hash(TOKENIZERS.qwen25);
    expect(qwen).toBe('e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea');
    expect(preTokenizerForHash(qwen)).toBe('qwen2');
  });
});
