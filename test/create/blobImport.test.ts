// The import path a FROM GGUF takes (a kernel copy hashed as it grows, flushed every 64 MiB; or read,
// hash, write elsewhere) stores exactly the file's bytes under their digest, around the chunk and flush
// boundaries, and an abort or a wrong digest leaves nothing.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { streamCopyToBlob } from '../../lib/store/blobs.js';
import { openStore } from '../../lib/store/store.js';
import { sha256, tempDir } from './fixtures.js';

it('a file crossing several read chunks and the 64 MiB flush interval is stored byte for byte, copied or hashed after a link', async () => {
  const dir = tempDir('import');
  const content = randomBytes((66 << 20) + 12345);
  const path = join(dir, 'big.gguf');
  writeFileSync(path, content);
  const store = await openStore(join(dir, 'models'));
  const progress: number[] = [];
  const copied = await store.putBlobFile(path, { onProgress: (p) => progress.push(p.completed) });
  expect(copied.digest).toBe(sha256(content));
  expect(readFileSync(copied.path).equals(content)).toBe(true);
  expect(progress.at(-1)).toBe(content.length);
  expect(progress.every((v, i) => i === 0 || v > (progress[i - 1] as number))).toBe(true);

  // Many small writes through a BlobWriter, crossing the flush interval twice.
  const writer = await store.createBlobWriter();
  const piece = content.subarray(0, 3 << 20); // 45 pieces: 135 MiB
  for (let i = 0; i < 45; i++) await writer.write(piece);
  const written = await writer.commit();
  expect(written.size).toBe(45 * piece.length);
  expect(written.digest).toBe(sha256(Buffer.concat(Array.from({ length: 45 }, () => piece))));

  const linked = await store.putBlobFile(path, { link: true });
  expect([linked.digest, linked.created]).toEqual([copied.digest, false]);
  const report = await store.verify();
  expect([report.problems, report.tempFiles]).toEqual([[], []]);
});

it('an import aborted mid-copy rejects with the reason and leaves nothing once the kernel copy has ended; a wrong expected digest stores nothing', async () => {
  const dir = tempDir('import-abort');
  const content = randomBytes(24 << 20);
  const path = join(dir, 'big.gguf');
  writeFileSync(path, content);
  const store = await openStore(join(dir, 'models'));
  const controller = new AbortController();
  const reason = new Error('enough');
  await expect(store.putBlobFile(path, { signal: controller.signal, onProgress: () => controller.abort(reason) })).rejects.toBe(reason);
  for (let i = 0; i < 200 && readdirSync(store.blobsDir).length > 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(readdirSync(store.blobsDir)).toEqual([]);
  await expect(store.putBlobFile(path, { expectedDigest: sha256('something else') })).rejects.toMatchObject({ code: 'ERR_STORE_DIGEST_MISMATCH' });
  expect(readdirSync(store.blobsDir)).toEqual([]);
});

it('the portable read-hash-write copy (used where the kernel copy is not) stores the same blob', async () => {
  const dir = tempDir('import-stream');
  const content = randomBytes((9 << 20) + 3);
  const path = join(dir, 'f.gguf');
  writeFileSync(path, content);
  const store = await openStore(join(dir, 'models'));
  mkdirSync(store.blobsDir, { recursive: true });
  const blob = await streamCopyToBlob(store.blobsDir, path, {});
  expect(blob.digest).toBe(sha256(content));
  expect(readFileSync(blob.path).equals(content)).toBe(true);
  expect(readdirSync(store.blobsDir)).toEqual([`sha256-${blob.digest.slice(7)}`]);
});
