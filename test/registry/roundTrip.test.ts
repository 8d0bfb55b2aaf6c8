// Push and pull through a real registry (Debian's docker-registry, distribution 2.8).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '../../lib/create/create.js';
import { pull, push, RegistryError } from '../../lib/registry/index.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { displayShortest, parseModelName } from '../../lib/store/names.js';
import { openStore, type ModelStore } from '../../lib/store/store.js';
import { ggufLayer, removeTempDirs, tempDir, writeModel } from './models.js';
import { missingReason, startRegistry, type RunningRegistry } from './registryServer.js';

if (missingReason) console.warn(`skipping real-registry round trips: ${missingReason}`);

const fast = { insecure: true, retries: 2, retryDelayMs: 5 } as const;

describe.skipIf(missingReason !== undefined)('push and pull through docker-registry', () => {
  let registry: RunningRegistry;
  let source: ModelStore;
  let nameA: string;

  beforeAll(async () => {
    registry = await startRegistry();
    source = await openStore(tempDir('source'));
    nameA = `${registry.host}/test/a:v1`;
    await writeModel(source, nameA, await ggufLayer(source, { seed: 11 }), { system: 'You are a test.' });
  });
  afterAll(async () => {
    await registry?.stop();
    removeTempDirs();
  });

  it('a pushed model pulls back into an empty store byte for byte, and verify passes', async () => {
    const pushed = await push(nameA, { ...fast, store: source });
    expect(pushed.blobs.map((b) => b.outcome)).toEqual(['uploaded', 'uploaded', 'uploaded', 'uploaded', 'uploaded']);
    expect(pushed.blobs.reduce((s, b) => s + b.bytesSent, 0)).toBe(pushed.blobs.reduce((s, b) => s + b.size, 0));

    const target = await openStore(tempDir('target'));
    const events: string[] = [];
    const pulled = await pull(nameA, { ...fast, store: target, onProgress: (p) => events.push(p.status) });
    expect(pulled.blobs.every((b) => b.outcome === 'downloaded')).toBe(true);
    const original = await source.readManifest(nameA);
    const copy = await target.readManifest(nameA);
    expect(copy.bytes.equals(original.bytes)).toBe(true);
    expect(copy.digest).toBe(pushed.digest);
    for (const layer of [...original.manifest.layers, original.manifest.config]) {
      expect(readFileSync(target.blobPath(layer.digest)).equals(readFileSync(source.blobPath(layer.digest)))).toBe(true);
    }
    const report = await target.verify();
    expect(report.problems).toEqual([]);
    expect(report.tempFiles).toEqual([]); // no partial or part file left behind
    expect(events[0]).toBe('pulling manifest');
    expect(events.slice(-2)).toEqual(['writing manifest', 'success']);
  });

  it('create FROM a name the store lacks pulls it first, then builds on it', async () => {
    const target = await openStore(tempDir('create-pull'));
    const statuses: string[] = [];
    const result = await create('derived', { store: target, modelfile: `FROM ${nameA}\nSYSTEM derived\n`, pull: fast, onProgress: (p) => statuses.push(p.status) });
    expect((await target.readManifest(nameA)).bytes.equals((await source.readManifest(nameA)).bytes)).toBe(true);
    expect(statuses[0]).toBe('pulling manifest');
    expect(result.layers.filter((l) => l.mediaType === MEDIA_TYPES.system)).toHaveLength(1);
    expect((await target.verify()).problems).toEqual([]);
  });

  it('pushing or pulling again moves no blob bytes', async () => {
    const again = await push(nameA, { ...fast, store: source });
    expect(again.blobs.map((b) => b.outcome)).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
    expect(again.blobs.reduce((s, b) => s + b.bytesSent, 0)).toBe(0);

    const target = await openStore(tempDir('again'));
    await pull(nameA, { ...fast, store: target });
    const second = await pull(nameA, { ...fast, store: target });
    expect(second.blobs.map((b) => b.outcome)).toEqual(['cached', 'cached', 'cached', 'cached', 'cached']);
    expect(second.blobs.reduce((s, b) => s + b.bytesTransferred, 0)).toBe(0);
  });

  it('a model made FROM another repository has the shared blob mounted, not uploaded', async () => {
    const a = await source.readManifest(nameA);
    const modelLayer = a.manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.model);
    if (modelLayer === undefined) throw new Error('no model layer');
    const nameB = `${registry.host}/other/b:latest`;
    const from = displayShortest(parseModelName(nameA));
    await writeModel(source, nameB, await source.layerFromBlob(modelLayer.digest, MEDIA_TYPES.model), { from, template: '{{ .System }} {{ .Prompt }}' });
    const pushed = await push(nameB, { ...fast, store: source });
    const model = pushed.blobs.find((b) => b.digest === modelLayer.digest);
    expect(model?.outcome).toBe('mounted');
    expect(model?.bytesSent).toBe(0);
    // Layers without `from` are uploaded to the new repository even when another one has them.
    expect(pushed.blobs.filter((b) => b.digest !== modelLayer.digest).every((b) => b.outcome === 'uploaded')).toBe(true);

    const target = await openStore(tempDir('mounted'));
    await pull(nameB, { ...fast, store: target });
    expect((await target.verify()).ok).toBe(true);
    expect((await target.readManifest(nameB)).bytes.equals((await source.readManifest(nameB)).bytes)).toBe(true);
  });

  it('pulling a retagged model removes the layers only the replaced manifest used (unless OLLAMA_NOPRUNE)', async () => {
    const name = `${registry.host}/test/moving:latest`;
    const model = await ggufLayer(source, { seed: 12 });
    await writeModel(source, name, model, { system: 'first' });
    await push(name, { ...fast, store: source });
    const target = await openStore(tempDir('moving'));
    await pull(name, { ...fast, store: target });
    const firstSystem = (await target.readManifest(name)).manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.system)?.digest as string;

    await writeModel(source, name, model, { system: 'second' });
    await push(name, { ...fast, store: source });

    const second = await pull(name, { ...fast, store: target });
    expect(second.removedBlobs).toEqual([firstSystem]);
    expect(await target.hasBlob(firstSystem)).toBe(false);
    expect(await target.hasBlob(model.digest)).toBe(true); // still used by the new manifest
    expect((await target.verify()).ok).toBe(true);

    // OLLAMA_NOPRUNE keeps them, as in Ollama.
    const noPrune = await openStore(tempDir('noprune'));
    await writeModel(source, name, model, { system: 'third' });
    await push(name, { ...fast, store: source });
    await pull(name, { ...fast, store: noPrune });
    const oldThird = (await noPrune.readManifest(name)).manifest.layers.find((l) => l.mediaType === MEDIA_TYPES.system)?.digest as string;
    await writeModel(source, name, model, { system: 'fourth' });
    await push(name, { ...fast, store: source });
    const after = await pull(name, { ...fast, store: noPrune, env: { OLLAMA_NOPRUNE: '1' } });
    expect(after.removedBlobs).toEqual([]);
    expect(await noPrune.hasBlob(oldThird)).toBe(true);
  });

  it('a tag the registry does not have fails with ERR_REGISTRY_NOT_FOUND and writes nothing', async () => {
    const target = await openStore(tempDir('missing'));
    const error = await pull(`${registry.host}/test/a:nope`, { ...fast, store: target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('ERR_REGISTRY_NOT_FOUND');
    expect((error as RegistryError).status).toBe(404);
    expect(await target.list()).toEqual([]);
  });

  it('plain http needs insecure; an explicit http:// name uses it directly', async () => {
    const target = await openStore(tempDir('scheme'));
    const refused = await pull(`http://${registry.host}/test/a:v1`, { store: target }).catch((e: unknown) => e);
    expect((refused as RegistryError).code).toBe('ERR_REGISTRY_INSECURE');
    const ok = await pull(`http://${registry.host}/test/a:v1`, { ...fast, store: target });
    expect(ok.blobs.length).toBe(5);
  });

  it('an unreachable registry fails with ERR_REGISTRY_NETWORK after the retries', async () => {
    const target = await openStore(tempDir('down'));
    const error = await pull('http://127.0.0.1:9/test/a:v1', { store: target, insecure: true, retries: 2, retryDelayMs: 1 }).catch((e: unknown) => e);
    expect((error as RegistryError).code).toBe('ERR_REGISTRY_NETWORK');
    expect((error as RegistryError).message).toMatch(/gave up after 3 attempts/);
  });
});
