// The real trained stories260K model, exported to Hugging Face form (inverse permutation, HF names,
// config.json, a tokenizer.model made from its vocabulary) and converted back: every tensor is
// bit-identical to the original and llama.cpp tells the same story with both files.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import type { GgufArray } from '../../lib/gguf/types.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { exportLlamaToHf } from './exportHf.js';
import { scratch } from './hfFixtures.js';
import { disposeRuntime, greedy, nlc } from './llamaRuntime.js';

const original = sharedDataAvailable ? sharedData('gguf', 'models', 'stories260K.gguf') : '';
const dir = join(scratch, 'stories260K');
const converted = join(scratch, 'stories260K-roundtrip.gguf');

afterAll(async () => {
  await disposeRuntime();
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!sharedDataAvailable)('stories260K: GGUF → Hugging Face → GGUF', () => {
  beforeAll(async () => {
    await exportLlamaToHf(original, dir);
    await convertModel(dir, converted, { outType: 'f32' });
  });

  test('every tensor is bit-identical to the original (name, type, shape, bytes)', () => {
    using a = MappedGguf.open(original);
    using b = MappedGguf.open(converted);
    expect(b.header.tensors.map((t) => t.name).sort()).toEqual(a.header.tensors.map((t) => t.name).sort());
    for (const t of a.header.tensors) {
      const u = b.tensor(t.name)!;
      expect([t.name, u.type, u.shape]).toEqual([t.name, t.type, t.shape]);
      const x = a.tensorData(t);
      const y = b.tensorData(u);
      const at = x.findIndex((v, i) => v !== y[i]);
      expect(at, `${t.name} differs at byte ${at}`).toBe(-1);
    }
  });

  test('the vocabulary (tokens, scores, types) comes back unchanged', () => {
    using a = MappedGguf.open(original);
    using b = MappedGguf.open(converted);
    for (const key of ['tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type']) {
      const x = a.header.metadata.find((m) => m.key === key)!.value as GgufArray;
      const y = b.header.metadata.find((m) => m.key === key)!.value as GgufArray;
      expect(Array.from(y.items as ArrayLike<unknown>)).toEqual(Array.from(x.items as ArrayLike<unknown>));
    }
  });

  test.skipIf(!nlc)('llama.cpp continues "Once upon a time" the same way with both files', async () => {
    const want = await greedy(original, 'Once upon a time', 32);
    const got = await greedy(converted, 'Once upon a time', 32);
    expect(want.trim().length).toBeGreaterThan(20);
    expect(got).toBe(want);
  });
});
