// create -q: the model layer is the file quantizeModel (= llama_model_quantize) writes, quantized
// straight from the source into the store (the F16 source is never stored), with Ollama's status order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { create } from '../../lib/create/create.js';
import { humanNumber } from '../../lib/create/ollamaFormat.js';
import { nativeAvailable } from '../../lib/native.js';
import { quantizeModel } from '../../lib/quantize/quantizeModel.js';
import { openStore } from '../../lib/store/store.js';
import { writeSyntheticLlama } from '../../lib/synthetic/llamaModel.js';
import { blobFiles, sha256, tempDir } from './fixtures.js';

if (!nativeAvailable()) console.warn('skipping create -q tests: the native addon is not built');

describe.skipIf(!nativeAvailable())('create -q', () => {
  let dir: string;
  let source: string;
  let parameters: number;
  let reference: string;
  beforeAll(async () => {
    dir = tempDir('quantize');
    source = join(dir, 'f16.gguf');
    ({ parameters } = await writeSyntheticLlama(source, { embd: 256, layers: 2, ff: 512, vocab: 320, seed: 7 }));
    await quantizeModel(source, join(dir, 'ref-q4km.gguf'), 'Q4_K_M');
    reference = sha256(readFileSync(join(dir, 'ref-q4km.gguf')));
  });

  it('stores what llama_model_quantize writes, reporting parsing, quantizing, verifying, layers, manifest', async () => {
    const root = join(dir, 'models-a');
    const events: string[] = [];
    const result = await create('q', { from: source, quantize: 'q4_K_M', models: root, onProgress: (p) => events.push(p.total === undefined ? p.status : `${p.status} [${p.completed}/${p.total}]`) });
    const model = result.layers[0];
    expect(model).toEqual({ mediaType: 'application/vnd.ollama.image.model', digest: reference, size: readFileSync(join(dir, 'ref-q4km.gguf')).length });
    expect(result.statuses).toEqual(['parsing GGUF', 'quantizing F16 model to Q4_K_M', 'verifying conversion', `creating new layer ${reference}`, 'writing manifest', 'success']);
    const bars = events.filter((e) => e.startsWith('quantizing F16 model to Q4_K_M ['));
    expect(bars.length).toBeGreaterThan(2);
    expect(bars.at(-1)).toMatch(/\[(\d+)\/\1\]$/);
    expect(result.config).toMatchObject({ fileType: 'Q4_K_M', modelType: humanNumber(parameters), modelFamilies: ['llama'] });
    expect(result.ggufs).toEqual([{ source, mediaType: 'application/vnd.ollama.image.model', digest: reference, size: model?.size, method: 'quantize' }]);
    // Only the quantized model and the config: no copy of the F16 source, no temp left behind.
    const store = await openStore(root);
    expect(blobFiles(store)).toEqual([reference, result.configLayer.digest].map((d) => `sha256-${d.slice(7)}`).sort());
  });

  it("keeps Ollama's spelling of the type in the status, skips a model already of that type, refuses a quantized one", async () => {
    const root = join(dir, 'models-b');
    const alias = await create('alias', { from: source, quantize: 'q4_k', models: root });
    expect(alias.statuses[1]).toBe('quantizing F16 model to Q4_K');
    expect(alias.layers[0]?.digest).toBe(reference);
    const same = await create('same', { from: source, quantize: 'F16', models: root });
    expect(same.ggufs[0]?.method).toBe('copy');
    expect(same.layers[0]?.digest).toBe(sha256(readFileSync(source)));
    await expect(create('again', { from: join(dir, 'ref-q4km.gguf'), quantize: 'Q8_0', models: root })).rejects.toMatchObject({
      code: 'ERR_CREATE_QUANTIZE',
      message: expect.stringMatching(/only supported for F16, BF16 and F32 models.*Q4_K_M/),
    });
    await expect(create('bad', { from: source, quantize: 'Q9_Z', models: root })).rejects.toThrow(RangeError);
  });

  it('quantizes the model layer of a FROM model and inherits the rest', async () => {
    const root = join(dir, 'models-c');
    const base = await create('base', { modelfile: `FROM ${source}\nSYSTEM hello\n`, models: root });
    const q8 = await create('base:q8', { modelfile: 'FROM base\n', quantize: 'Q8_0', models: root });
    await quantizeModel(source, join(dir, 'ref-q8.gguf'), 'Q8_0');
    expect(q8.layers[0]?.digest).toBe(sha256(readFileSync(join(dir, 'ref-q8.gguf'))));
    expect(q8.layers[0]?.from).toBeUndefined();
    expect(q8.layers[1]).toEqual({ ...base.layers[1], from: 'base:latest' });
    expect(q8.config.fileType).toBe('Q8_0');
    expect(q8.statuses.slice(0, 3)).toEqual(['parsing GGUF', 'quantizing F16 model to Q8_0', 'verifying conversion']);
  });

  it('an abort in the middle of quantizing rejects with the reason and leaves no temp file and no partial blob', async () => {
    const root = join(dir, 'models-d');
    const controller = new AbortController();
    const reason = new Error('stop now');
    let seen = 0;
    await expect(
      create('aborted', {
        from: source,
        quantize: 'Q4_K_M',
        models: root,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.total !== undefined && ++seen === 3) controller.abort(reason);
        },
      }),
    ).rejects.toBe(reason);
    const store = await openStore(root);
    expect(blobFiles(store)).toEqual([]);
    expect((await store.verify()).ok).toBe(true);
  });
});
