// FROM an existing model: its layers are reused over the same blobs with `from`, then TEMPLATE/SYSTEM
// replace, LICENSE appends, parameters merge and MESSAGEs replace, exactly in createModel's order.
// Also: re-creating a name deletes the old manifest's now-unused blobs (unless OLLAMA_NOPRUNE), and
// a blob that vanishes under a create (another process's cleanup) makes it start again.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create } from '../../lib/create/create.js';
import { openStore } from '../../lib/store/store.js';
import { sharedDataAvailable } from '../sharedData.js';
import { blobFiles, blobText, sha256, tempDir, TINY_DIGEST, TINY_GGUF } from './fixtures.js';

const kind = (mediaType: string) => mediaType.replace('application/vnd.ollama.image.', '');

describe.skipIf(!sharedDataAvailable)('create FROM an existing model', () => {
  it('reuses the base layers with from, then applies Ollama’s replace/append/merge rules in its order', async () => {
    const root = join(tempDir('from'), 'models');
    const base = await create('base', {
      modelfile: `FROM ${TINY_GGUF}\nTEMPLATE {{ .Prompt }}\nSYSTEM old system\nLICENSE base licence\nPARAMETER temperature 0.7\nPARAMETER stop <|eot_id|>\nMESSAGE user hi\nREQUIRES 0.5.0\n`,
      models: root,
    });
    expect(base.layers.map((l) => kind(l.mediaType))).toEqual(['model', 'template', 'system', 'license', 'params', 'messages']);
    const store = await openStore(root);
    const blobsBefore = blobFiles(store).length;

    const derived = await create('derived', { modelfile: 'FROM Base\nSYSTEM new system\nLICENSE extra licence\nPARAMETER top_k 20\nPARAMETER temperature 0.2\n', models: root });
    // SYSTEM replaces in place of nothing (removed, appended); LICENSE appends; params move to the end, merged.
    expect(derived.layers.map((l) => kind(l.mediaType))).toEqual(['model', 'template', 'license', 'messages', 'system', 'license', 'params']);
    const [model, template, license, messages] = derived.layers;
    for (const [i, layer] of [model, template, license, messages].entries()) {
      expect(layer, `layer ${i}`).toEqual({ ...base.layers.find((l) => l.digest === layer?.digest), from: 'base:latest' });
    }
    expect(blobText(store, derived.layers[4]?.digest as string)).toBe('new system');
    expect(blobText(store, derived.layers[5]?.digest as string)).toBe('extra licence');
    // New keys override (temperature 0.2), inherited keys stay (stop), sorted as Go's map encoding does.
    expect(blobText(store, derived.layers[6]?.digest as string)).toBe('{"stop":["\\u003c|eot_id|\\u003e"],"temperature":0.2,"top_k":20}\n');
    // The model blob is not copied: four new blobs (system, licence, params, config).
    expect(blobFiles(store).length).toBe(blobsBefore + 4);
    expect(derived.ggufs).toEqual([{ source: store.blobPath(TINY_DIGEST), mediaType: 'application/vnd.ollama.image.model', digest: TINY_DIGEST, size: 1750560, method: 'existing' }]);
    expect(derived.statuses.slice(0, 4)).toEqual(derived.layers.slice(0, 4).map((l) => `using existing layer ${l.digest}`));
    // requires is inherited from the base config; family and type come from the model GGUF again.
    expect(derived.config).toMatchObject({ modelFormat: 'gguf', modelFamily: 'llama', modelFamilies: ['llama'], modelType: '513K', fileType: 'F16', requires: '0.5.0' });

    // Parameters alone: the inherited params layer is re-encoded (float64 now) and moves last; messages replace.
    const second = await create('second', { modelfile: 'FROM derived\nMESSAGE assistant new message\n', models: root });
    expect(second.layers.map((l) => kind(l.mediaType))).toEqual(['model', 'template', 'license', 'system', 'license', 'params', 'messages']);
    expect(second.layers[5]?.digest).toBe(derived.layers[6]?.digest);
    expect(blobText(store, second.layers[6]?.digest as string)).toBe('[{"role":"assistant","content":"new message"}]\n');
    expect((await store.verify()).ok).toBe(true);
  });

  it('refuses a base the store does not have, and an invalid base name', async () => {
    const root = join(tempDir('from-missing'), 'models');
    await expect(create('x', { modelfile: 'FROM llama3.2\n', models: root, pull: false })).rejects.toMatchObject({ code: 'ERR_CREATE_FROM_MODEL', message: expect.stringMatching(/pulling is turned off/) });
    await expect(create('x', { modelfile: 'FROM a/b/c/d/e\n', models: root })).rejects.toMatchObject({ code: 'ERR_STORE_NAME' });
  });

  it('re-creating a name deletes the blobs only the old manifest used, unless OLLAMA_NOPRUNE', async () => {
    const root = join(tempDir('recreate'), 'models');
    const first = await create('m', { modelfile: `FROM ${TINY_GGUF}\nSYSTEM one\n`, models: root });
    const oldSystem = first.layers[1]?.digest as string;
    const second = await create('M', { modelfile: `FROM ${TINY_GGUF}\nSYSTEM two\n`, models: root });
    expect(second.name.model).toBe('m'); // the existing spelling is reused
    expect(second.removedBlobs.sort()).toEqual([oldSystem, first.configLayer.digest].sort());
    const store = await openStore(root);
    expect(await store.hasBlob(oldSystem)).toBe(false);
    expect(await store.hasBlob(TINY_DIGEST)).toBe(true);

    const kept = await create('m', { modelfile: `FROM ${TINY_GGUF}\nSYSTEM three\n`, models: root, env: { OLLAMA_NOPRUNE: '1' } });
    expect(kept.removedBlobs).toEqual([]);
    expect(await store.hasBlob(second.layers[1]?.digest as string)).toBe(true);
    expect((await store.verify()).unreferencedBlobs.sort()).toEqual([second.layers[1]?.digest, second.configLayer.digest].sort());
  });

  it('starts again when a blob it stored disappears before the manifest is written', async () => {
    const root = join(tempDir('vanish'), 'models');
    const store = await openStore(root);
    let removed = false;
    const result = await create('v', {
      modelfile: `FROM ${TINY_GGUF}\nSYSTEM vanishing\n`,
      store,
      onProgress: (p) => {
        // What another process's rm or create cleanup could do between our blob write and our manifest write.
        if (p.status === 'writing manifest' && !removed) {
          removed = true;
          rmSync(store.blobPath(sha256('vanishing')));
        }
      },
    });
    expect(result.warnings).toEqual([expect.stringMatching(/sha256:.*creating again/)]);
    expect(await store.hasBlob(sha256('vanishing'))).toBe(true);
    expect((await store.verify()).ok).toBe(true);
  });
});
