// The import path a FROM GGUF takes (read ahead, hash, queued writes, background flushes every 64 MiB)
// stores exactly the file's bytes under their digest, for sizes around the chunk and flush boundaries.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
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
