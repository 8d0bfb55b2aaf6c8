// create FROM a Hugging Face safetensors folder: converted (and with -q quantized) in one pass into
// the store; the model blob equals what `convertModel` writes for the same folder and type, and an
// unsupported architecture is refused before any blob is written.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { create } from '../../lib/create/create.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { sharedDataAvailable } from '../sharedData.js';
import { TOKENIZERS, llama32Config, llamaSpecs, scratch, writeHfModel, type HfModel } from '../convert/hfFixtures.js';

const SHAPE = { vocab: 32000, hidden: 64, ff: 128, layers: 2, heads: 4, kvHeads: 2, headDim: 16 };
const root = mkdtempSync(join(tmpdir(), 'gguf-forge-create-hf-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!sharedDataAvailable)('create FROM a safetensors folder', () => {
  let model: HfModel;
  beforeAll(async () => {
    model = await writeHfModel('Llama-3.2-1B-Instruct', llama32Config(SHAPE), llamaSpecs(SHAPE), { tokenizer: TOKENIZERS.llama2, seed: 3 });
  }, 120_000);

  test.each([undefined, 'Q4_K_M'])('the model layer is the converted GGUF (-q %s)', async (quantize) => {
    const store = await openStore(join(root, `store-${quantize ?? 'f16'}`));
    const statuses: string[] = [];
    const result = await create('hf-import', {
      store,
      modelfile: `FROM ${model.dir}\nPARAMETER temperature 0.5\n`,
      ...(quantize ? { quantize } : {}),
      onProgress: (p) => statuses.push(p.status),
    });
    const modelLayer = result.layers.find((l) => l.mediaType === MEDIA_TYPES.model)!;
    const expected = join(root, `expected-${quantize ?? 'f16'}.gguf`);
    await convertModel(model.dir, expected, { outType: quantize ?? 'f16' });
    expect(Buffer.compare(readFileSync(store.blobPath(modelLayer.digest)), readFileSync(expected))).toBe(0);
    expect(result.config.modelFamily).toBe('llama');
    expect(result.config.fileType).toBe(quantize ?? 'F16');
    expect(statuses).toContain('converting model');
    if (quantize) expect(statuses).toContain('quantizing F16 model to Q4_K_M');
    expect((await store.verify()).ok).toBe(true);
  }, 120_000);

  test('an unsupported architecture is refused before anything is written', async () => {
    const bad = mkdtempSync(join(root, 'bad-'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ architectures: ['MambaForCausalLM'] }));
    const storeDir = join(root, 'store-bad');
    const store = await openStore(storeDir);
    await expect(create('bad', { store, modelfile: `FROM ${bad}\n` })).rejects.toMatchObject({ code: 'ERR_CREATE_SOURCE', message: expect.stringMatching(/MambaForCausalLM.*LlamaForCausalLM/s) });
    const blobs = join(storeDir, 'blobs');
    expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);
  });
});
