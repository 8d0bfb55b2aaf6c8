import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeConfigBlob, encodeParamsBlob } from '../../lib/store/configBlob.js';
import { goFloat32 } from '../../lib/store/goJson.js';
import { encodeManifest, MEDIA_TYPES, type Layer } from '../../lib/store/manifest.js';
import { MANIFEST_TEMP_PREFIX } from '../../lib/store/manifestTree.js';
import { openStore, type ModelStore } from '../../lib/store/store.js';
import { filesUnder, sha256, tempDir } from './storeDirs.js';

const HOUR = 3600_000;

async function createModel(store: ModelStore, name: string, parts: { weights: Buffer | string; system?: string; template?: string }) {
  const layers: Layer[] = [(await store.newLayer(parts.weights, MEDIA_TYPES.model)).layer];
  if (parts.template !== undefined) layers.push((await store.newLayer(parts.template, MEDIA_TYPES.template)).layer);
  if (parts.system !== undefined) layers.push((await store.newLayer(parts.system, MEDIA_TYPES.system)).layer);
  layers.push((await store.newLayer(encodeParamsBlob({ temperature: goFloat32(0.7), stop: ['<|eot_id|>'] }), MEDIA_TYPES.params)).layer);
  const config = await store.newLayer(
    encodeConfigBlob({ modelFormat: 'gguf', modelFamily: 'llama', modelFamilies: ['llama'], modelType: '8.0B', fileType: 'Q4_K_M' }),
    MEDIA_TYPES.config,
  );
  return store.writeManifest(name, config.layer, layers);
}

/** Writes a blob file directly (not through this process's store, so it is not held for a pending create). */
function plantBlob(store: ModelStore, content: string, ageMs = 0): string {
  mkdirSync(store.blobsDir, { recursive: true });
  const path = store.blobPath(sha256(content));
  writeFileSync(path, content);
  if (ageMs) age(path, ageMs);
  return sha256(content);
}

function age(path: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  utimesSync(path, t, t);
}

describe('manifests', () => {
  it('round trip: WriteManifest bytes at manifests/<host>/<ns>/<model>/<tag>, read back with the sha256 of the file as digest', async () => {
    const store = await openStore(tempDir('manifest'));
    const written = await createModel(store, 'tiny', { weights: 'GGUF....', system: 'You are <terse>.', template: '{{ .Prompt }}' });
    const path = join(store.root, 'manifests', 'registry.ollama.ai', 'library', 'tiny', 'latest');
    expect(written.path).toBe(path);
    const bytes = readFileSync(path);
    expect(bytes.equals(written.bytes)).toBe(true);
    expect(written.digest).toBe(sha256(bytes).slice(7));
    const read = await store.readManifest('tiny:latest');
    expect(read.digest).toBe(written.digest);
    expect(read.manifest.schemaVersion).toBe(2);
    expect(read.manifest.mediaType).toBe(MEDIA_TYPES.manifest);
    expect(read.manifest.layers.map((l) => l.mediaType)).toEqual([MEDIA_TYPES.model, MEDIA_TYPES.template, MEDIA_TYPES.system, MEDIA_TYPES.params]);
    expect(read.manifest.layers[2]).toEqual({ mediaType: MEDIA_TYPES.system, digest: sha256('You are <terse>.'), size: 16 });
    expect(encodeManifest(read.manifest.config, read.manifest.layers).equals(bytes)).toBe(true);
    // The system blob holds the raw text; the params blob Go's encoding.
    expect(readFileSync(store.blobPath(sha256('You are <terse>.')), 'utf8')).toBe('You are <terse>.');
    expect((await store.readBlob(read.manifest.layers[3]!.digest)).toString()).toBe('{"stop":["\\u003c|eot_id|\\u003e"],"temperature":0.7}\n');
    expect(filesUnder(store.manifestsDir)).toEqual(['registry.ollama.ai/library/tiny/latest']);
  });

  it('are not written when a blob is missing or has another size, so no manifest points at a missing blob', async () => {
    const store = await openStore(tempDir('check'));
    const config = (await store.newLayer('{}', MEDIA_TYPES.config)).layer;
    const ghost: Layer = { mediaType: MEDIA_TYPES.model, digest: sha256('never stored'), size: 12 };
    await expect(store.writeManifest('m', config, [ghost])).rejects.toMatchObject({ code: 'ERR_STORE_BLOB_MISSING', digest: ghost.digest });
    await expect(store.writeManifest('m', { ...config, size: 3 }, [])).rejects.toMatchObject({ code: 'ERR_STORE_BLOB_SIZE' });
    await expect(store.layerFromBlob(ghost.digest, MEDIA_TYPES.model)).rejects.toMatchObject({ code: 'ERR_STORE_BLOB_MISSING' });
    expect(filesUnder(store.manifestsDir)).toEqual([]);
    await expect(store.readManifest('m')).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' });
  });

  it('reuse an existing spelling ignoring case, folder by folder (getExistingName)', async () => {
    const store = await openStore(tempDir('case'));
    await createModel(store, 'Jmorgan/Foo:Q4', { weights: 'w1' });
    const again = await createModel(store, 'jmorgan/foo:q4', { weights: 'w2' });
    expect(again.name).toMatchObject({ namespace: 'Jmorgan', model: 'Foo', tag: 'Q4' });
    expect(again.previous?.layers[0]?.digest).toBe(sha256('w1'));
    const other = await createModel(store, 'JMORGAN/bar', { weights: 'w3' });
    expect(other.name).toMatchObject({ namespace: 'Jmorgan', model: 'bar', tag: 'latest' });
    expect(filesUnder(store.manifestsDir)).toEqual(['registry.ollama.ai/Jmorgan/Foo/Q4', 'registry.ollama.ai/Jmorgan/bar/latest']);
    expect((await store.readManifest('JMORGAN/FOO:q4')).manifest.layers[0]?.digest).toBe(sha256('w2'));
  });

  it('layerFromBlob reuses a blob with from (inherited layers), size taken from the file', async () => {
    const store = await openStore(tempDir('from'));
    const base = await createModel(store, 'base', { weights: 'base weights' });
    const inherited = await store.layerFromBlob(sha256('base weights'), MEDIA_TYPES.model, { from: 'base:latest' });
    expect(inherited).toEqual({ mediaType: MEDIA_TYPES.model, digest: sha256('base weights'), size: 12, from: 'base:latest' });
    const child = await store.writeManifest('child', (await store.readManifest('base')).manifest.config, [inherited]);
    expect(child.bytes.toString()).toContain('"from":"base:latest"');
    expect(base.digest).not.toBe(child.digest);
  });
});

describe('list, cp, rm', () => {
  it('list: display name, ID = first 12 hex of the manifest digest, size = layers + config, newest first', async () => {
    const store = await openStore(tempDir('list'));
    const a = await createModel(store, 'alpha', { weights: randomBytes(1000) });
    const b = await createModel(store, 'team/beta:v2', { weights: randomBytes(500), system: 'hi' });
    age(a.path, 2 * HOUR);
    mkdirSync(join(store.manifestsDir, 'registry.ollama.ai', 'library', 'alpha', 'sub'));
    writeFileSync(join(store.manifestsDir, 'registry.ollama.ai', 'library', 'alpha', '-bad-name'), '{}');
    const list = await store.list();
    expect(list.map((m) => m.displayName)).toEqual(['team/beta:v2', 'alpha:latest']);
    const beta = list[0]!;
    expect(beta.digest).toBe(b.digest);
    expect(beta.id).toBe(b.digest.slice(0, 12));
    const manifest = JSON.parse(b.bytes.toString()) as { config: { size: number }; layers: Array<{ size: number }> };
    expect(beta.size).toBe(manifest.layers.reduce((n, l) => n + l.size, manifest.config.size));
    expect(list[1]!.modifiedAt.getTime()).toBe(statSync(a.path).mtime.getTime());
  });

  it('cp writes the same manifest bytes under the new name and copies no blob', async () => {
    const store = await openStore(tempDir('cp'));
    const src = await createModel(store, 'src', { weights: 'weights' });
    const blobsBefore = filesUnder(store.blobsDir);
    const result = await store.copy('SRC', 'hf.co/me/dst:v1');
    expect(result.source.model).toBe('src');
    expect(readFileSync(join(store.manifestsDir, 'hf.co', 'me', 'dst', 'v1')).equals(src.bytes)).toBe(true);
    expect(filesUnder(store.blobsDir)).toEqual(blobsBefore);
    expect((await store.list()).map((m) => m.digest)).toEqual([src.digest, src.digest]);
    await store.copy('src', 'src:latest'); // same file: nothing to do
    await expect(store.copy('missing', 'x')).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' });
  });

  it('rm deletes the manifest, its empty folders and exactly the blobs no other manifest references', async () => {
    const store = await openStore(tempDir('rm'));
    const one = await createModel(store, 'team/one', { weights: 'shared weights', system: 'one' });
    await createModel(store, 'two', { weights: 'shared weights', system: 'two' });
    const oneConfig = (await store.readManifest('team/one')).manifest.config.digest;
    // A fresh store object: blobs held for pending creates belong to the process, not the object; these are written already.
    const removed = await (await openStore(store.root)).remove('TEAM/ONE');
    expect(removed.name).toMatchObject({ namespace: 'team', model: 'one' });
    // Both models have the same config bytes and params, so only the system blob of "one" goes.
    expect(removed.removedBlobs).toEqual([sha256('one')]);
    expect(oneConfig).toBe((await store.readManifest('two')).manifest.config.digest);
    expect(filesUnder(store.manifestsDir)).toEqual(['registry.ollama.ai/library/two/latest']);
    const second = await store.remove('two');
    expect(second.removedBlobs.sort()).toEqual(
      [sha256('shared weights'), sha256('two'), ...JSON.parse(one.bytes.toString()).layers.slice(2).map((l: Layer) => l.digest), oneConfig].sort(),
    );
    expect(filesUnder(store.root)).toEqual([]);
    await expect(store.remove('two')).rejects.toMatchObject({ code: 'ERR_STORE_NOT_FOUND' });
  });

  it('rm keeps a blob this process just stored for a manifest it has not written yet', async () => {
    const store = await openStore(tempDir('pins'));
    await createModel(store, 'old', { weights: 'weights', system: 'kept for the pending create' });
    await store.newLayer('kept for the pending create', MEDIA_TYPES.system); // a create in flight reuses it
    const removed = await store.remove('old');
    expect(removed.removedBlobs).not.toContain(sha256('kept for the pending create'));
    expect(await store.hasBlob(sha256('kept for the pending create'))).toBe(true);
    expect(removed.removedBlobs).toContain(sha256('weights'));
  });

  it('deleteUnreferencedBlobs after replacing a manifest removes only what the old one alone used', async () => {
    const store = await openStore(tempDir('replace'));
    await createModel(store, 'm', { weights: 'w', system: 'old system' });
    const replaced = await createModel(store, 'm', { weights: 'w', system: 'new system' });
    const previous = replaced.previous!.layers.map((l) => l.digest);
    expect(await store.deleteUnreferencedBlobs(previous)).toEqual([sha256('old system')]);
  });
});

describe('prune', () => {
  it('--dry-run lists exactly the unreferenced blobs and stray temps past the grace period; the real run deletes exactly those', async () => {
    const store = await openStore(tempDir('prune'));
    await createModel(store, 'kept', { weights: 'kept weights' });
    for (const file of filesUnder(store.blobsDir)) age(join(store.blobsDir, file), 2 * HOUR); // referenced and old: kept
    const orphanA = plantBlob(store, 'orphan a', 2 * HOUR);
    const orphanB = plantBlob(store, 'orphan b', 3 * HOUR);
    plantBlob(store, 'young orphan', 10 * 60_000);
    const staleTemp = join(store.blobsDir, 'sha256-tmp-1-abcdef');
    writeFileSync(staleTemp, 'partial');
    age(staleTemp, 2 * HOUR);
    writeFileSync(join(store.blobsDir, 'sha256-tmp-2-young'), 'writing now');
    const legacy = join(store.blobsDir, `sha256:${'e'.repeat(64)}`);
    writeFileSync(legacy, 'legacy name');
    age(legacy, 5 * HOUR);
    mkdirSync(join(store.blobsDir, 'split-gguf-123'));
    const manifestTemp = join(store.manifestsDir, `${MANIFEST_TEMP_PREFIX}9-abc`);
    writeFileSync(manifestTemp, '{"schemaVer');
    age(manifestTemp, 2 * HOUR);
    mkdirSync(join(store.manifestsDir, 'example.com', 'ns', 'gone'), { recursive: true });

    const before = filesUnder(store.root);
    const dry = await store.prune({ dryRun: true });
    expect(filesUnder(store.root)).toEqual(before);
    expect(dry.dryRun).toBe(true);
    expect(dry.blobs.map((b) => b.digest)).toEqual([orphanA, orphanB].sort());
    expect(dry.blobs.map((b) => b.path)).toEqual([store.blobPath(orphanA), store.blobPath(orphanB)].sort());
    expect(dry.temps.map((t) => t.path)).toEqual([staleTemp, manifestTemp]);
    expect(dry.dirs).toEqual([join(store.manifestsDir, 'example.com', 'ns', 'gone'), join(store.manifestsDir, 'example.com', 'ns'), join(store.manifestsDir, 'example.com')]);
    expect(dry.bytes).toBe('orphan a'.length + 'orphan b'.length + 'partial'.length + '{"schemaVer'.length);

    const real = await store.prune();
    expect({ ...real, dryRun: true }).toEqual(dry);
    const gone = new Set([store.blobPath(orphanA), store.blobPath(orphanB), staleTemp, manifestTemp].map((p) => p.slice(store.root.length + 1)));
    expect(filesUnder(store.root)).toEqual(before.filter((f) => !gone.has(f)));
    expect((await store.verify()).ok).toBe(true);
    expect((await store.prune({ dryRun: true })).blobs).toEqual([]);
  });

  it('keeps what a manifest that does not parse mentions, and what this process holds for a pending create', async () => {
    const store = await openStore(tempDir('prune-safe'));
    await createModel(store, 'good', { weights: 'w' });
    const mentioned = plantBlob(store, 'named by a broken manifest', 2 * HOUR);
    const orphan = plantBlob(store, 'orphan', 2 * HOUR);
    const broken = join(store.manifestsDir, 'registry.ollama.ai', 'library', 'broken', 'latest');
    mkdirSync(join(broken, '..'), { recursive: true });
    writeFileSync(broken, `{"layers":[{"digest":"${mentioned}"`);
    const held = (await store.putBlob('held by a create in flight')).digest;
    const report = await store.prune({ gracePeriodMs: 0 });
    expect(report.blobs.map((b) => b.digest)).toEqual([orphan]);
    expect(report.unparsableManifests).toEqual([broken]);
    expect(await store.hasBlob(mentioned)).toBe(true);
    expect(await store.hasBlob(held)).toBe(true);
  });

  it('a create that died before its manifest leaves only temp files: verify passes, prune clears them after the grace period', async () => {
    const store = await openStore(tempDir('crash'));
    await createModel(store, 'fine', { weights: 'w' });
    const writer = await store.createBlobWriter();
    await writer.write(randomBytes(10_000)); // never closed: the process "died" here
    const report = await store.verify();
    expect(report.ok).toBe(true);
    expect(report.tempFiles).toEqual([writer.tempPath]);
    expect((await store.prune()).temps).toEqual([]);
    const later = await store.prune({ now: Date.now() + 2 * HOUR });
    expect(later.temps.map((t) => t.path)).toEqual([writer.tempPath]);
    expect((await store.verify()).tempFiles).toEqual([]);
  });
});

describe('verify', () => {
  it('passes on a healthy store and names every corrupted, truncated and missing blob and every broken manifest', async () => {
    const store = await openStore(tempDir('verify'));
    await createModel(store, 'a', { weights: randomBytes(3000), system: 'sys a' });
    await createModel(store, 'b', { weights: randomBytes(2000), template: 'tmpl b' });
    const healthy = await store.verify();
    expect(healthy).toMatchObject({ ok: true, problems: [], manifests: 2 });
    expect(healthy.bytesHashed).toBe(filesUnder(store.blobsDir).reduce((n, f) => n + statSync(join(store.blobsDir, f)).size, 0));

    const a = (await store.readManifest('a')).manifest;
    const b = (await store.readManifest('b')).manifest;
    const corrupt = a.layers[0]!.digest; // same size, one byte flipped
    const bytes = readFileSync(store.blobPath(corrupt));
    bytes[100] = (bytes[100] as number) ^ 0xff;
    writeFileSync(store.blobPath(corrupt), bytes);
    const missing = b.layers[1]!.digest;
    rmSync(store.blobPath(missing));
    const truncated = b.layers[0]!.digest;
    truncateSync(store.blobPath(truncated), 10);
    const badJson = join(store.manifestsDir, 'registry.ollama.ai', 'library', 'c', 'latest');
    mkdirSync(join(badJson, '..'), { recursive: true });
    writeFileSync(badJson, 'not json');
    writeFileSync(join(store.manifestsDir, 'registry.ollama.ai', 'library', 'a', '.tmp'), (await store.readManifest('a')).bytes);

    const report = await store.verify();
    expect(report.ok).toBe(false);
    const found = report.problems.map((p) => `${p.kind} ${p.digest ?? p.path}`).sort();
    expect(found).toEqual(
      [
        `bad-manifest ${badJson}`,
        `bad-manifest-name ${join(store.manifestsDir, 'registry.ollama.ai', 'library', 'a', '.tmp')}`,
        `corrupt-blob ${corrupt}`,
        `corrupt-blob ${truncated}`,
        `missing-blob ${missing}`,
        `size-mismatch ${truncated}`,
      ].sort(),
    );
    expect(report.problems.find((p) => p.kind === 'missing-blob')).toMatchObject({ model: 'registry.ollama.ai/library/b:latest', path: store.blobPath(missing) });
    expect((await store.verify({ rehash: false })).problems.map((p) => p.kind).sort()).toEqual(['bad-manifest', 'bad-manifest-name', 'missing-blob', 'size-mismatch']);
  });
});
