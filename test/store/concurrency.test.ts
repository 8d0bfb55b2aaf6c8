import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { encodeConfigBlob } from '../../lib/store/configBlob.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { filesUnder, sha256, tempDir } from './storeDirs.js';

it('eight concurrent blob + manifest writes into one store (four to the same name) all succeed and verify, with an rm racing them', async () => {
  const dir = tempDir('concurrent');
  const weightsPath = join(dir, 'weights.gguf');
  const weights = randomBytes(6 * 1024 * 1024 + 7); // two chunks, so the eight copies interleave
  writeFileSync(weightsPath, weights);
  const root = join(dir, 'models');
  const config = encodeConfigBlob({ modelFormat: 'gguf', modelFamily: 'llama', modelFamilies: ['llama'], modelType: '8.0B', fileType: 'F16' });

  // A model that shares the weights and config with the creates; removing it while they run must not take their blobs.
  {
    const store = await openStore(root);
    const w = await store.putBlobFile(weightsPath);
    const c = await store.newLayer(config, MEDIA_TYPES.config);
    await store.writeManifest('victim', c.layer, [{ mediaType: MEDIA_TYPES.model, digest: w.digest, size: w.size }]);
  }

  let firstBlob!: () => void;
  const blobStored = new Promise<void>((resolve) => (firstBlob = resolve));
  const names = ['same', 'same:latest', 'SAME', 'library/same', 'one', 'two:t', 'ns/three', 'hf.co/a/four:q'];
  const creates = names.map(async (name, i) => {
    const store = await openStore(root); // one store object per create, as separate API calls would have
    const model = await store.putBlobFile(weightsPath, { link: i % 2 === 1 });
    firstBlob();
    const system = await store.newLayer(`system prompt ${i}`, MEDIA_TYPES.system);
    const cfg = await store.newLayer(config, MEDIA_TYPES.config);
    return store.writeManifest(name, cfg.layer, [{ mediaType: MEDIA_TYPES.model, digest: model.digest, size: model.size }, system.layer]);
  });
  const removal = blobStored.then(async () => (await openStore(root)).remove('victim'));
  const written = await Promise.all(creates);
  await removal;

  const store = await openStore(root);
  const report = await store.verify();
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
  expect(report.tempFiles).toEqual([]);
  const list = await store.list();
  // The four spellings of "same" are one model; whichever spelling landed first is the one kept.
  expect(list.map((m) => m.displayName.toLowerCase()).sort()).toEqual(['hf.co/a/four:q', 'ns/three:latest', 'one:latest', 'same:latest', 'two:t']);
  // The four writes to "same" each replaced the file whole: it holds exactly one writer's bytes.
  const same = (await store.readManifest('same')).bytes;
  expect(written.slice(0, 4).some((w) => w.bytes.equals(same))).toBe(true);
  expect(written.every((w) => w.digest === sha256(w.bytes).slice(7))).toBe(true);
  // One weights blob, one config blob, eight system blobs, nothing else.
  expect(filesUnder(store.blobsDir)).toHaveLength(10);
  expect(await store.hasBlob(sha256(weights))).toBe(true);
});
