import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll } from 'vitest';
import { tempDirs } from '../tempDirs.js';

export { sha256 } from '../tempDirs.js';

const dirs = tempDirs('gguf-forge-store');
afterAll(() => dirs.removeAll());
/** A fresh folder under os.tmpdir(), removed after the file's tests. */
export const tempDir = dirs.tempDir;

/** Every file under `root`, relative and sorted (what a crash or a prune left behind). */
export function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(root, path));
    }
  };
  walk(root);
  return out.sort();
}
