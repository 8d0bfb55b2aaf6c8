// The file-system steps every store write is made of: a temp file beside (or near) its destination,
// fsync, rename, fsync of the folder. A crash at any point leaves either the old file, the new file,
// or a stray temp that prune() removes; never a partial file under the final name.
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** A temp name no other writer (thread, process) picks: prefix + pid + 48 random bits. */
export function tempFileName(prefix: string): string {
  return `${prefix}${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Makes a rename or unlink in `dir` durable (best effort: not every platform can fsync a folder). */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* Windows cannot open a folder for fsync; the rename is still atomic there. */
  }
}

export async function writeFully(handle: { write(b: Uint8Array, o: number, l: number): Promise<{ bytesWritten: number }> }, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}

/**
 * Renames `from` to `to`, creating `to`'s folder first. A concurrent rm that prunes empty folders can
 * remove that folder between the mkdir and the rename (ENOENT), so the pair is retried a few times.
 */
export async function renameInto(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(to), { recursive: true, mode: 0o755 });
    try {
      await rename(from, to);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 8) throw error;
    }
  }
}

/** Writes `bytes` to `dest` through a temp file in `tempDir` (same file system), fsynced, then renamed. */
export async function writeFileAtomic(dest: string, bytes: Uint8Array, tempDir: string, tempPrefix: string, mode = 0o644): Promise<void> {
  await mkdir(tempDir, { recursive: true, mode: 0o755 });
  const temp = join(tempDir, tempFileName(tempPrefix));
  const handle = await open(temp, 'wx', 0o600);
  let renamed = false;
  try {
    await writeFully(handle, bytes);
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    await renameInto(temp, dest);
    renamed = true;
    await syncDir(dirname(dest));
  } finally {
    if (!renamed) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}
