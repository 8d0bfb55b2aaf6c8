// Temp folders a test module makes under os.tmpdir(), removed together, and the `sha256:<hex>` name
// the store gives a blob, computed here rather than by lib/ so the tests check lib/'s digests.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDirs {
  /** A fresh folder `<prefix>-<label>-XXXXXX` under os.tmpdir(). */
  tempDir(label: string): string;
  /** Removes every folder tempDir() made so far. */
  removeAll(): void;
}

export function tempDirs(prefix: string): TempDirs {
  const made: string[] = [];
  return {
    tempDir(label) {
      const dir = mkdtempSync(join(tmpdir(), `${prefix}-${label}-`));
      made.push(dir);
      return dir;
    },
    removeAll() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
