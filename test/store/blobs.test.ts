import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType } from '../../lib/gguf/types.js';
import { GgufWriter, writeGguf, type GgufSink } from '../../lib/gguf/writer.js';
import { BLOB_TEMP_PREFIX } from '../../lib/store/blobs.js';
import { openStore, resolveStoreRoot } from '../../lib/store/store.js';
import { filesUnder, sha256, tempDir } from './storeDirs.js';

describe('store root', () => {
  it('is the option, else OLLAMA_MODELS trimmed of spaces and quotes, else ~/.ollama/models', () => {
    expect(resolveStoreRoot('/srv/m', { OLLAMA_MODELS: '/elsewhere' })).toBe('/srv/m');
    expect(resolveStoreRoot(undefined, { OLLAMA_MODELS: ' "/data/models" ' })).toBe('/data/models');
    expect(resolveStoreRoot(undefined, { OLLAMA_MODELS: "'/data/x'" })).toBe('/data/x');
    expect(resolveStoreRoot(undefined, { OLLAMA_MODELS: '  ' })).toBe(join(homedir(), '.ollama', 'models'));
    expect(resolveStoreRoot(undefined, {})).toBe(join(homedir(), '.ollama', 'models'));
  });

  it('opened without a root option follows OLLAMA_MODELS', async () => {
    const dir = tempDir('env');
    expect((await openStore({ env: { OLLAMA_MODELS: `"${dir}"` } })).root).toBe(dir);
  });

  it('that is a file is refused with ERR_STORE_ROOT; a missing one is created on the first write', async () => {
    const dir = tempDir('root');
    writeFileSync(join(dir, 'file'), 'x');
    await expect(openStore(join(dir, 'file'))).rejects.toMatchObject({ code: 'ERR_STORE_ROOT', path: join(dir, 'file') });
    const store = await openStore({ root: join(dir, 'new', 'models') });
    expect(existsSync(store.root)).toBe(false);
    expect(await store.list()).toEqual([]);
    await store.putBlob('x');
    expect(filesUnder(store.root)).toEqual([`blobs/sha256-${sha256('x').slice(7)}`]);
  });
});

describe('blobs', () => {
  it('are stored as blobs/sha256-<hex> of their exact bytes, mode 0644, no temp left', async () => {
    const store = await openStore(tempDir('put'));
    const info = await store.putBlob('hello');
    expect(info).toEqual({ digest: sha256('hello'), size: 5, path: join(store.blobsDir, `sha256-${sha256('hello').slice(7)}`), created: true });
    expect(readFileSync(info.path, 'utf8')).toBe('hello');
    if (process.platform !== 'win32') expect(statSync(info.path).mode & 0o777).toBe(0o644);
    expect(filesUnder(store.root)).toEqual([`blobs/sha256-${sha256('hello').slice(7)}`]);
  });

  it('are deduplicated: the same bytes again reuse the blob and touch its mtime', async () => {
    const store = await openStore(tempDir('dedup'));
    const first = await store.putBlob(Buffer.from('same bytes'));
    const old = new Date(Date.now() - 3 * 3600_000);
    utimesSync(first.path, old, old);
    const again = await store.newLayer('same bytes', 'application/vnd.ollama.image.system');
    expect(again.created).toBe(false);
    expect(again.status).toBe(`using existing layer ${first.digest}`);
    expect(again.layer).toEqual({ mediaType: 'application/vnd.ollama.image.system', digest: first.digest, size: 10 });
    expect(Date.now() - statSync(first.path).mtimeMs).toBeLessThan(60_000);
    expect(filesUnder(store.root)).toHaveLength(1);
    const fresh = await store.newLayer('other', 'application/vnd.ollama.image.system');
    expect(fresh.status).toBe(`creating new layer ${sha256('other')}`);
  });

  it('replace a same-named file of the wrong size (a partial blob can never be reused)', async () => {
    const store = await openStore(tempDir('partial'));
    const content = randomBytes(1000);
    const digest = sha256(content);
    await store.putBlob('seed'); // creates blobs/
    writeFileSync(store.blobPath(digest), content.subarray(0, 10));
    const info = await store.putBlob(content);
    expect(info.created).toBe(true);
    expect(readFileSync(info.path).equals(content)).toBe(true);
  });

  it('stream through a writer: overlapping writes land in order, nothing appears under a digest name before close', async () => {
    const store = await openStore(tempDir('writer'));
    const writer = await store.createBlobWriter();
    const parts = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i));
    await Promise.all(parts.map((p) => writer.write(p)));
    expect(filesUnder(store.blobsDir)).toEqual([writer.tempPath.slice(store.blobsDir.length + 1)]);
    expect(writer.tempPath.slice(store.blobsDir.length + 1).startsWith(BLOB_TEMP_PREFIX)).toBe(true);
    const info = await writer.commit();
    expect(info.digest).toBe(sha256(Buffer.concat(parts)));
    expect(info.size).toBe(parts.reduce((n, p) => n + p.length, 0));
    expect(filesUnder(store.blobsDir)).toEqual([`sha256-${info.digest.slice(7)}`]);
    await expect(writer.write(Buffer.from('late'))).rejects.toMatchObject({ code: 'ERR_STORE_WRITER_CLOSED' });
  });

  it('a GGUF streamed through GgufWriter into a blob writer is the same file writeGguf makes, stored under its sha256', async () => {
    const dir = tempDir('gguf');
    const store = await openStore(join(dir, 'models'));
    const metadata = [
      { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
      { key: 'general.alignment', type: GgufValueType.UINT32, value: 32 },
    ];
    const data = [randomBytes(4 * 96), randomBytes(4 * 33)];
    const tensors = [
      { name: 'a.weight', type: GgmlType.F32, shape: [96] },
      { name: 'b.weight', type: GgmlType.F32, shape: [33] },
    ];
    const blob = await store.createBlobWriter();
    const sink: GgufSink = blob;
    const writer = await GgufWriter.toSink(sink, metadata, tensors);
    for (const chunk of data) await writer.write(chunk);
    await writer.close();
    await writeGguf(join(dir, 'reference.gguf'), metadata, tensors.map((t, i) => ({ ...t, data: data[i] as Buffer })));
    const reference = readFileSync(join(dir, 'reference.gguf'));
    expect(blob.result?.digest).toBe(sha256(reference));
    expect(readFileSync(blob.result!.path).equals(reference)).toBe(true);
  });

  it('an aborted writer or stream leaves no file at all', async () => {
    const store = await openStore(tempDir('abort'));
    const writer = await store.createBlobWriter();
    await writer.write(randomBytes(5000));
    await writer.abort();
    expect(filesUnder(store.blobsDir)).toEqual([]);

    const controller = new AbortController();
    async function* chunks() {
      yield randomBytes(100);
      yield randomBytes(100);
      controller.abort(new Error('stop here'));
      yield randomBytes(100);
    }
    await expect(store.putBlobStream(chunks(), { signal: controller.signal })).rejects.toThrow('stop here');
    expect(filesUnder(store.blobsDir)).toEqual([]);
  });

  it('from a file: copied while hashed (chunks across the 4 MiB buffer), progress up to the size', async () => {
    const dir = tempDir('file');
    const store = await openStore(join(dir, 'models'));
    const source = join(dir, 'model.gguf');
    const content = randomBytes(9 * 1024 * 1024 + 123);
    writeFileSync(source, content);
    const seen: number[] = [];
    const info = await store.putBlobFile(source, { onProgress: (p) => seen.push(p.completed) });
    expect(info.method).toBe('copy');
    expect(info.digest).toBe(sha256(content));
    expect(readFileSync(info.path).equals(content)).toBe(true);
    expect(statSync(info.path).ino).not.toBe(statSync(source).ino);
    expect(seen.at(-1)).toBe(content.length);
    expect(seen.length).toBe(3);
    expect(filesUnder(store.blobsDir)).toEqual([`sha256-${info.digest.slice(7)}`]);
  });

  it('from a file with the wrong expected digest: ERR_STORE_DIGEST_MISMATCH and nothing stored', async () => {
    const dir = tempDir('expect');
    const store = await openStore(join(dir, 'models'));
    const source = join(dir, 'f.bin');
    writeFileSync(source, 'content');
    await expect(store.putBlobFile(source, { expectedDigest: sha256('other') })).rejects.toMatchObject({ code: 'ERR_STORE_DIGEST_MISMATCH', digest: sha256('content') });
    await expect(store.putBlobFile(source, { link: true, expectedDigest: sha256('other') })).rejects.toMatchObject({ code: 'ERR_STORE_DIGEST_MISMATCH' });
    expect(filesUnder(store.blobsDir)).toEqual([]);
    expect((await store.putBlobFile(source, { expectedDigest: sha256('content').replace(':', '-') })).created).toBe(true);
  });

  it('from a file with link: a reflink or a hard link on the same file system, no copy of the bytes', async () => {
    const dir = tempDir('link');
    const store = await openStore(join(dir, 'models'));
    const source = join(dir, 'model.gguf');
    const content = randomBytes(300_000);
    writeFileSync(source, content);
    const info = await store.putBlobFile(source, { link: true });
    expect(['reflink', 'hardlink']).toContain(info.method);
    expect(info.digest).toBe(sha256(content));
    if (info.method === 'hardlink') expect(statSync(info.path).ino).toBe(statSync(source).ino);
    expect(readFileSync(info.path).equals(content)).toBe(true);
    // Linking the same content again reuses the blob and drops the extra link.
    const again = await store.putBlobFile(source, { link: true });
    expect(again.created).toBe(false);
    expect(filesUnder(store.blobsDir)).toEqual([`sha256-${info.digest.slice(7)}`]);
  });

  const shm = '/dev/shm';
  const otherDevice = existsSync(shm) && statSync(shm).dev !== statSync(tempDir('dev')).dev;
  it.skipIf(!otherDevice)('from a file with link on another file system: falls back to a copy (EXDEV)', async () => {
    const store = await openStore(tempDir('xdev'));
    const source = join(shm, `gguf-forge-store-${process.pid}.bin`);
    writeFileSync(source, 'cross-device');
    try {
      const info = await store.putBlobFile(source, { link: true });
      expect(info.method).toBe('copy');
      expect(info.digest).toBe(sha256('cross-device'));
    } finally {
      rmSync(source, { force: true });
    }
  });

  it('digests other than sha256:<64 hex> are refused with ERR_STORE_DIGEST', async () => {
    const store = await openStore(tempDir('digest'));
    for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(64), 'sha256:../../' + 'a'.repeat(58), `sha256/${'a'.repeat(64)}`]) {
      expect(() => store.blobPath(bad), bad).toThrowError(expect.objectContaining({ code: 'ERR_STORE_DIGEST' }) as Error);
    }
    expect(store.blobPath(`sha256-${'A'.repeat(64)}`)).toBe(join(store.blobsDir, `sha256-${'A'.repeat(64)}`));
  });
});
