// Walking manifests/<host>/<namespace>/<model>/<tag> the way Ollama's Manifests() globs it
// (exactly four levels, dot-names included, symlinks followed), and the set of blobs they reference.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, type Manifest } from './manifest.js';
import { modelNameFromPathParts, type ModelName } from './names.js';

/** Temp files of atomic manifest writes sit in manifests/ itself: one level up from where Ollama's glob looks. */
export const MANIFEST_TEMP_PREFIX = '.tmp-manifest-';

export interface ManifestFile {
  /** [host, namespace, model, tag] as spelled on disk. */
  readonly parts: readonly string[];
  readonly path: string;
  /** undefined when a part is not a valid name part (Ollama skips such files). */
  readonly name: ModelName | undefined;
}

async function subdirs(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  const out: string[] = [];
  for (const entry of entries) {
    if (entry.isDirectory()) out.push(entry.name);
    else if (entry.isSymbolicLink() && (await stat(join(dir, entry.name)).catch(() => undefined))?.isDirectory()) out.push(entry.name);
  }
  return out.sort();
}

/** Every file four levels below `manifestsDir`, sorted by path. */
export async function listManifestFiles(manifestsDir: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  for (const host of await subdirs(manifestsDir)) {
    for (const namespace of await subdirs(join(manifestsDir, host))) {
      for (const model of await subdirs(join(manifestsDir, host, namespace))) {
        const dir = join(manifestsDir, host, namespace, model);
        let entries;
        try {
          entries = await readdir(dir, { withFileTypes: true });
        } catch {
          continue; // removed while we walked
        }
        for (const entry of entries.map((e) => e.name).sort()) {
          const path = join(dir, entry);
          const info = await stat(path).catch(() => undefined);
          if (info === undefined || info.isDirectory()) continue;
          const parts = [host, namespace, model, entry];
          out.push({ parts, path, name: modelNameFromPathParts(parts) });
        }
      }
    }
  }
  return out;
}

export interface ManifestScan {
  readonly file: ManifestFile;
  readonly bytes: Buffer;
  readonly manifest?: Manifest;
  readonly error?: Error;
}

export interface References {
  /** Lower-case `sha256:<hex>` of every blob some manifest names. */
  readonly digests: Set<string>;
  readonly scans: ManifestScan[];
}

const DIGEST_IN_TEXT = /sha256[:-]([0-9a-fA-F]{64})/g;

export function normalizeDigest(digest: string): string {
  return `sha256:${digest.slice(7).toLowerCase()}`;
}

/**
 * Reads every manifest. A manifest that does not parse still protects every digest written in its
 * text: Ollama either skips pruning over a corrupt manifest or ignores it and may delete what it
 * used; keeping whatever it might reference is the choice that can never break a model.
 */
export async function collectReferences(manifestsDir: string): Promise<References> {
  const digests = new Set<string>();
  const scans: ManifestScan[] = [];
  for (const file of await listManifestFiles(manifestsDir)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we walked
      throw error;
    }
    try {
      const manifest = parseManifest(bytes, file.path);
      for (const layer of [...manifest.layers, manifest.config]) {
        if (/^sha256[:-][0-9a-fA-F]{64}$/.test(layer.digest)) digests.add(normalizeDigest(layer.digest));
      }
      scans.push({ file, bytes, manifest });
    } catch (error) {
      for (const match of bytes.toString('latin1').matchAll(DIGEST_IN_TEXT)) digests.add(`sha256:${(match[1] as string).toLowerCase()}`);
      scans.push({ file, bytes, error: error as Error });
    }
  }
  return { digests, scans };
}
