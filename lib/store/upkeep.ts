// prune and verify. prune follows Ollama's startup PruneLayers (server/images.go): blobs no manifest
// references and non-digest files in blobs/, both only once older than the grace period (a create
// writes its blobs before its manifest), then empty manifest folders. verify re-hashes every blob
// and checks every manifest reference, reporting rather than repairing.
import { lstat, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from './blobs.js';
import { digestOfBlobFileName } from './manifest.js';
import { collectReferences, MANIFEST_TEMP_PREFIX, normalizeDigest } from './manifestTree.js';
import { formatModelName } from './names.js';

/** Ollama's layerPruneGracePeriod. */
export const DEFAULT_PRUNE_GRACE_MS = 60 * 60 * 1000;

interface StoreView {
  readonly blobsDir: string;
  readonly manifestsDir: string;
  isPinned(digest: string): boolean;
}

export interface PruneOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun?: boolean;
  /** Files younger than this are kept (default 1 h, Ollama's). */
  gracePeriodMs?: number;
  /** The clock (tests). */
  now?: Date | number;
}

export interface PrunedFile {
  readonly path: string;
  readonly size: number;
  /** Set for blobs: `sha256:<hex>`. */
  readonly digest?: string;
}

export interface PruneReport {
  readonly dryRun: boolean;
  /** Unreferenced blobs, sorted by path. */
  readonly blobs: PrunedFile[];
  /** Stray temp files (blobs/ non-digest names, manifests/ temp files), sorted by path. */
  readonly temps: PrunedFile[];
  /** Empty folders under manifests/ (children before parents). */
  readonly dirs: string[];
  /** Σ sizes of the files above. */
  readonly bytes: number;
  /** Manifests that did not parse; the digests written in them were kept. */
  readonly unparsableManifests: string[];
}

const LEGACY_BLOB = /^sha256:[0-9a-fA-F]{64}$/; // renamed by Ollama's fixBlobs at start-up; not ours to delete

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Folders under `dir` that hold nothing but folders that will go too; post-order. */
async function emptyDirs(dir: string, out: string[]): Promise<boolean> {
  let empty = true;
  for (const name of await entries(dir)) {
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined) continue;
    if (info.isDirectory() && (await emptyDirs(path, out))) out.push(path);
    else empty = false;
  }
  return empty;
}

export async function pruneStore(store: StoreView, options: PruneOptions): Promise<PruneReport> {
  const now = options.now === undefined ? Date.now() : typeof options.now === 'number' ? options.now : options.now.getTime();
  const grace = options.gracePeriodMs ?? DEFAULT_PRUNE_GRACE_MS;
  if (!Number.isFinite(grace) || grace < 0) throw new RangeError(`Expected a non-negative number of milliseconds for gracePeriodMs but received ${String(grace)}`);
  const dryRun = options.dryRun === true;
  const old = (mtimeMs: number) => now - mtimeMs >= grace;

  const { digests: referenced, scans } = await collectReferences(store.manifestsDir);
  const blobs: PrunedFile[] = [];
  const temps: PrunedFile[] = [];
  for (const name of await entries(store.blobsDir)) {
    const path = join(store.blobsDir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory() || !old(info.mtimeMs)) continue;
    const digest = digestOfBlobFileName(name);
    if (digest !== undefined) {
      if (!referenced.has(normalizeDigest(digest)) && !store.isPinned(digest)) blobs.push({ path, size: info.size, digest });
    } else if (!LEGACY_BLOB.test(name)) {
      temps.push({ path, size: info.size });
    }
  }
  for (const name of await entries(store.manifestsDir)) {
    if (!name.startsWith(MANIFEST_TEMP_PREFIX)) continue;
    const path = join(store.manifestsDir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info?.isFile() && old(info.mtimeMs)) temps.push({ path, size: info.size });
  }
  const dirs: string[] = [];
  await emptyDirs(store.manifestsDir, dirs);

  if (dryRun) {
    const bytes = [...blobs, ...temps].reduce((sum, f) => sum + f.size, 0);
    return { dryRun, blobs, temps, dirs, bytes, unparsableManifests: scans.filter((s) => s.error).map((s) => s.file.path) };
  }

  const deleted = async (file: PrunedFile): Promise<boolean> => {
    // A create may have adopted the file since we looked (it touches the mtime) or this process may now hold it.
    const info = await lstat(file.path).catch(() => undefined);
    if (info === undefined || !old(info.mtimeMs) || (file.digest !== undefined && store.isPinned(file.digest))) return false;
    await rm(file.path, { force: true });
    return true;
  };
  const goneBlobs: PrunedFile[] = [];
  for (const file of blobs) if (await deleted(file)) goneBlobs.push(file);
  const goneTemps: PrunedFile[] = [];
  for (const file of temps) if (await deleted(file)) goneTemps.push(file);
  const goneDirs: string[] = [];
  for (const dir of dirs) {
    try {
      await rmdir(dir);
      goneDirs.push(dir);
    } catch {
      /* a writer put something there meanwhile */
    }
  }
  const bytes = [...goneBlobs, ...goneTemps].reduce((sum, f) => sum + f.size, 0);
  return { dryRun, blobs: goneBlobs, temps: goneTemps, dirs: goneDirs, bytes, unparsableManifests: scans.filter((s) => s.error).map((s) => s.file.path) };
}

export type VerifyProblemKind =
  /** A blob's content does not hash to its name. */
  | 'corrupt-blob'
  /** A manifest names a blob that is not in blobs/. */
  | 'missing-blob'
  /** A manifest's layer size differs from its blob's size. */
  | 'size-mismatch'
  /** A manifest names something that is not a sha256 digest. */
  | 'bad-digest'
  /** A manifest file that does not parse. */
  | 'bad-manifest'
  /** A file four levels under manifests/ whose path is not a valid model name (Ollama's start-up prune stops on it). */
  | 'bad-manifest-name';

export interface VerifyProblem {
  readonly kind: VerifyProblemKind;
  readonly path: string;
  readonly digest?: string;
  /** host/namespace/model:tag of the manifest concerned. */
  readonly model?: string;
  readonly message: string;
}

export interface VerifyOptions {
  /** Re-hash every blob (default true); false checks only existence and sizes. */
  rehash?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: { readonly blobsDone: number; readonly blobsTotal: number; readonly digest: string }) => void;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly problems: VerifyProblem[];
  readonly manifests: number;
  readonly blobs: number;
  readonly bytesHashed: number;
  /** Blobs no manifest references (prune's business, not a problem). */
  readonly unreferencedBlobs: string[];
  /** Non-digest files in blobs/ and manifest temp files (prune's business, not a problem). */
  readonly tempFiles: string[];
}

export async function verifyStore(store: StoreView, options: VerifyOptions, exclusive: <T>(section: () => Promise<T>) => Promise<T> = (s) => s()): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const { referenced, scans, blobNames, tempFiles } = await exclusive(() => checkManifests(store, problems));

  let bytesHashed = 0;
  if (options.rehash !== false) {
    let done = 0;
    for (const { path, digest } of blobNames) {
      options.signal?.throwIfAborted();
      let actual: { digest: string; size: number };
      try {
        actual = await hashFile(path, options.signal === undefined ? {} : { signal: options.signal });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed meanwhile
        throw error;
      }
      bytesHashed += actual.size;
      if (actual.digest !== normalizeDigest(digest)) {
        problems.push({ kind: 'corrupt-blob', path, digest, message: `blob ${digest} hashes to ${actual.digest}` });
      }
      options.onProgress?.({ blobsDone: ++done, blobsTotal: blobNames.length, digest });
    }
  }
  const unreferencedBlobs = blobNames.filter((b) => !referenced.has(normalizeDigest(b.digest))).map((b) => b.digest);
  return { ok: problems.length === 0, problems, manifests: scans.length, blobs: blobNames.length, bytesHashed, unreferencedBlobs, tempFiles };
}

async function checkManifests(store: StoreView, problems: VerifyProblem[]) {
  const { digests: referenced, scans } = await collectReferences(store.manifestsDir);
  for (const scan of scans) {
    const { file } = scan;
    const model = file.name === undefined ? file.parts.join('/') : formatModelName(file.name);
    if (file.name === undefined) {
      problems.push({ kind: 'bad-manifest-name', path: file.path, model, message: `${file.parts.join('/')} is not a valid model name` });
    }
    if (scan.manifest === undefined) {
      problems.push({ kind: 'bad-manifest', path: file.path, model, message: scan.error?.message ?? 'unreadable manifest' });
      continue;
    }
    for (const layer of [...scan.manifest.layers, scan.manifest.config]) {
      if (!/^sha256[:-][0-9a-fA-F]{64}$/.test(layer.digest)) {
        problems.push({ kind: 'bad-digest', path: file.path, model, digest: layer.digest, message: `${model}: ${JSON.stringify(layer.digest)} is not a sha256 digest` });
        continue;
      }
      const blobPath = join(store.blobsDir, `sha256-${layer.digest.slice(7)}`);
      const info = await stat(blobPath).catch(() => undefined);
      if (!info?.isFile()) {
        problems.push({ kind: 'missing-blob', path: blobPath, model, digest: layer.digest, message: `${model}: blob ${layer.digest} (${layer.mediaType}) is missing` });
      } else if (info.size !== layer.size) {
        problems.push({ kind: 'size-mismatch', path: blobPath, model, digest: layer.digest, message: `${model}: blob ${layer.digest} holds ${info.size} bytes, the manifest says ${layer.size}` });
      }
    }
  }

  const blobNames: Array<{ path: string; digest: string }> = [];
  const tempFiles: string[] = [];
  for (const name of await entries(store.blobsDir)) {
    const path = join(store.blobsDir, name);
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory()) continue;
    const digest = digestOfBlobFileName(name);
    if (digest !== undefined) blobNames.push({ path, digest });
    else if (!LEGACY_BLOB.test(name)) tempFiles.push(path);
  }
  for (const name of await entries(store.manifestsDir)) if (name.startsWith(MANIFEST_TEMP_PREFIX)) tempFiles.push(join(store.manifestsDir, name));
  return { referenced, scans, blobNames, tempFiles };
}
