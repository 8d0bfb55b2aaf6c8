// Loads llama.cpp's own libggml-base.so (shipped prebuilt in @node-llama-cpp/linux-x64) through koffi.
// It is the reference every test compares against; tests that need it skip with a printed reason
// where the package does not ship for the platform.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export interface ReferenceLibrary {
  koffi: typeof import('koffi');
  lib: import('koffi').LibraryHandle;
  path: string;
  version: string;
}

let cached: ReferenceLibrary | null | undefined;
let reason = '';

function packageBinsDir(): string {
  // The package's exports map hides package.json, so locate it from the repository root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return join(root, 'node_modules', '@node-llama-cpp', `${process.platform}-${process.arch}`, 'bins', `${process.platform}-${process.arch}`);
}

/** Returns the loaded reference library, or null (and sets `referenceUnavailableReason()`). */
export function loadGgmlBase(): ReferenceLibrary | null {
  if (cached !== undefined) return cached;
  const path = join(packageBinsDir(), 'libggml-base.so');
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    reason = `llama.cpp reference libraries are only wired up for linux-x64 (this is ${process.platform}-${process.arch})`;
    cached = null;
    return null;
  }
  if (!existsSync(path)) {
    reason = `${path} is missing: run npm install (devDependency @node-llama-cpp/linux-x64)`;
    cached = null;
    return null;
  }
  try {
    const koffi = require('koffi') as typeof import('koffi');
    const lib = koffi.load(path);
    const version = (lib.func('const char *ggml_version(void)') as () => string)();
    cached = { koffi, lib, path, version };
  } catch (err) {
    reason = `could not load ${path}: ${(err as Error).message}`;
    cached = null;
  }
  return cached;
}

export function referenceUnavailableReason(): string {
  loadGgmlBase();
  return reason;
}
