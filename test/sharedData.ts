// Where the shared test data lives: ../shared/data beside the repository (as in CI), or
// GGUF_FORGE_SHARED_DATA. Tests read the files in place; they are never copied into the repo.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDataDir = process.env.GGUF_FORGE_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');
export const sharedDataAvailable = existsSync(sharedDataDir);

export function sharedData(...parts: string[]): string {
  return join(sharedDataDir, ...parts);
}
