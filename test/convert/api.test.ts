// convertModel's contract: progress, AbortSignal (nothing left behind), unsupported architectures and
// bad arguments refused before anything is written, the pre-tokenizer hash refusal and override.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertModel, type ConvertProgress } from '../../lib/convert/convertModel.js';
import { SUPPORTED_ARCHITECTURES } from '../../lib/convert/architectures.js';
import { readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { sharedDataAvailable } from '../sharedData.js';
import { llamaSpecs, scratch, TOKENIZERS, writeHfModel, type HfModel } from './hfFixtures.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const CONFIG = { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 512, bos_token_id: 1, eos_token_id: 2 };
const SHAPE = { vocab: 512, hidden: 64, ff: 96, layers: 2, heads: 4, kvHeads: 2 };

function emptyDir(name: string): string {
  const d = join(scratch, name);
  mkdirSync(d, { recursive: true });
  return d;
}

describe.skipIf(!sharedDataAvailable)('convertModel contract', () => {
  let model: HfModel;
  beforeAll(async () => {
    model = await writeHfModel('contract', CONFIG, llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2 });
  });

  test('progress: one event per tensor in output order, bytes rising to the total', async () => {
    const events: ConvertProgress[] = [];
    const out = join(emptyDir('progress'), 'm.gguf');
    const r = await convertModel(model.dir, out, { onProgress: (p) => events.push(p) });
    const names = events.filter((e) => e.name).map((e) => e.name);
    expect(names).toEqual(readGgufHeaderSync(out).tensors.map((t) => t.name));
    expect(events.map((e) => e.bytesWritten)).toEqual([...events.map((e) => e.bytesWritten)].sort((a, b) => a - b));
    const last = events.at(-1)!;
    expect(last.bytesWritten).toBe(last.bytesTotal);
    expect(r.tensors).toHaveLength(names.length);
  });

  test('an abort rejects with the reason and leaves no file, not even a temp file', async () => {
    const dir = emptyDir('abort');
    const controller = new AbortController();
    const reason = new Error('stop here');
    const p = convertModel(model.dir, join(dir, 'm.gguf'), {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.tensor === 5) controller.abort(reason);
      },
    });
    await expect(p).rejects.toBe(reason);
    expect(readdirSync(dir)).toEqual([]);
    const already = new AbortController();
    already.abort(reason);
    await expect(convertModel(model.dir, join(dir, 'm.gguf'), { signal: already.signal })).rejects.toBe(reason);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an unsupported architecture fails before anything is written, listing the supported ones', async () => {
    const m = await writeHfModel('bert', { ...CONFIG, architectures: ['BertModel'] }, [], { tokenizer: TOKENIZERS.llama2 });
    const dir = emptyDir('arch');
    const err = await convertModel(m.dir, join(dir, 'm.gguf')).catch((e) => e);
    expect(err).toMatchObject({ name: 'ConvertError', code: 'ERR_CONVERT_ARCH' });
    expect(err.message).toContain('"BertModel"');
    for (const a of SUPPORTED_ARCHITECTURES) expect(err.message).toContain(a);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('bad arguments and inputs give typed errors and write nothing', async () => {
    const dir = emptyDir('bad');
    await expect(convertModel(model.dir, join(dir, 'm.gguf'), { outType: 'q9_9' })).rejects.toMatchObject({ code: 'ERR_CONVERT_OUTTYPE' });
    await expect(convertModel(emptyDir('no-config'), join(dir, 'm.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_CONFIG' });
    const broken = await writeHfModel('broken', CONFIG, llamaSpecs(SHAPE), {});
    writeFileSync(join(broken.dir, 'config.json'), '{"architectures": [');
    await expect(convertModel(broken.dir, join(dir, 'm.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_CONFIG' });
    const noTokenizer = await writeHfModel('no-tokenizer', CONFIG, llamaSpecs(SHAPE), {});
    await expect(convertModel(noTokenizer.dir, join(dir, 'm.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_TOKENIZER' });
    const missing = await writeHfModel('missing', CONFIG, llamaSpecs(SHAPE).filter((t) => !t.name.includes('layers.1.mlp')), { tokenizer: TOKENIZERS.llama2 });
    // The checkpoint simply lacks tensors: llama.cpp converts what is there; llama.cpp's loader would refuse it.
    await expect(convertModel(missing.dir, join(dir, 'm.gguf'))).resolves.toBeDefined();
    rmSync(join(dir, 'm.gguf'));
    const unknown = await writeHfModel('unknown-tensor', CONFIG, [...llamaSpecs(SHAPE), { name: 'model.layers.0.mystery.weight', shape: [4, 4] }], { tokenizer: TOKENIZERS.llama2 });
    await expect(convertModel(unknown.dir, join(dir, 'm.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_TENSOR', tensor: 'model.layers.0.mystery.weight' });
    const i64 = await writeHfModel('int-tensor', CONFIG, llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2 });
    const { writeSafetensors } = await import('../../lib/safetensors/writer.js');
    await writeSafetensors(join(i64.dir, 'model.safetensors'), [{ name: 'model.norm.weight', dtype: 'I64', shape: [64], data: new Uint8Array(512) }]);
    await expect(convertModel(i64.dir, join(dir, 'm.gguf'))).rejects.toMatchObject({ code: 'ERR_CONVERT_TENSOR' });
    await expect(convertModel(model.dir, join(model.dir, 'model.safetensors'))).rejects.toMatchObject({ code: 'ERR_CONVERT_SAME_FILE' });
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a hostile checkpoint is refused with the safetensors error', async () => {
    const m = await writeHfModel('hostile', CONFIG, llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2 });
    const bytes = readFileSync(join(m.dir, 'model.safetensors'));
    bytes.writeUInt32LE(0xffffff, 0);
    writeFileSync(join(m.dir, 'model.safetensors'), bytes);
    await expect(convertModel(m.dir, join(emptyDir('hostile-out'), 'm.gguf'))).rejects.toMatchObject({ name: 'SafetensorsError', code: 'ERR_SAFETENSORS_HEADER_LENGTH' });
  });

  test('a BPE pre-tokenizer llama.cpp does not know is refused unless named', async () => {
    const gpt2 = JSON.parse(readFileSync(TOKENIZERS.gpt2['tokenizer.json'], 'utf8'));
    // Digits split one by one: a pre-tokenizer no llama.cpp hash matches.
    gpt2.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, gpt2.pre_tokenizer] };
    const m = await writeHfModel('custom-bpe', { ...CONFIG, vocab_size: 50257, bos_token_id: 50256, eos_token_id: 50256 }, llamaSpecs({ ...SHAPE, vocab: 50257 }), {
      files: { 'tokenizer.json': JSON.stringify(gpt2) },
    });
    const dir = emptyDir('pre');
    const err = await convertModel(m.dir, join(dir, 'm.gguf')).catch((e) => e);
    expect(err).toMatchObject({ code: 'ERR_CONVERT_PRETOKENIZER' });
    expect(err.message).toMatch(/chkhsh [0-9a-f]{64}/);
    expect(readdirSync(dir)).toEqual([]);
    await convertModel(m.dir, join(dir, 'm.gguf'), { preTokenizer: 'gpt-2' });
    const h = readGgufHeaderSync(join(dir, 'm.gguf'));
    expect(h.metadata.find((e) => e.key === 'tokenizer.ggml.pre')?.value).toBe('gpt-2');
    expect(h.metadata.find((e) => e.key === 'tokenizer.ggml.model')?.value).toBe('gpt2');
  });

  test('general.name can be given', async () => {
    const out = join(emptyDir('named'), 'm.gguf');
    await convertModel(model.dir, out, { name: 'My Model' });
    expect(readGgufHeaderSync(out).metadata.find((e) => e.key === 'general.name')?.value).toBe('My Model');
    expect(existsSync(out)).toBe(true);
  });
});
