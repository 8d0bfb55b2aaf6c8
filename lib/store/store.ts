// An Ollama-compatible model store: <root>/blobs/sha256-<hex> and
// <root>/manifests/<host>/<namespace>/<model>/<tag>, readable by an Ollama pointed at the same root.
// Differences from Ollama, all in the safe direction: manifests are written atomically (temp +
// fsync + rename, Ollama truncates in place), blobs are fsynced, a manifest is only written once
// every blob it names exists with the right size, and rm/prune keep whatever a manifest that does
// not parse might reference.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { tempFileName, writeFileAtomic } from './atomicFile.js';
import { adoptFileAsBlob, BlobWriter, BLOB_TEMP_PREFIX, copyFileToBlob, linkFileToBlob, type BlobFileOptions, type BlobImportMethod, type BlobInfo } from './blobs.js';
import { StoreError } from './errors.js';
import { blobFileName, digestHex, encodeManifest, manifestDigests, manifestSize, parseManifest, type Layer, type Manifest } from './manifest.js';
import { collectReferences, listManifestFiles, MANIFEST_TEMP_PREFIX, normalizeDigest } from './manifestTree.js';
import { displayShortest, formatModelName, isValidNamePart, manifestPathParts, modelNameFromParts, parseModelName, type ModelName, type NamePart } from './names.js';
import { pruneStore, verifyStore, type PruneOptions, type PruneReport, type VerifyOptions, type VerifyReport } from './upkeep.js';

/** How long a blob this process has just stored stays safe from rm/prune before a manifest names it (Ollama: "write the manifest within 1 h"). */
export const PIN_TTL_MS = 60 * 60 * 1000;

export interface StoreOptions {
  /** The store folder (`--models`); else $OLLAMA_MODELS; else ~/.ollama/models. */
  root?: string;
  /** Environment to read OLLAMA_MODELS from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Ollama's envconfig.Models(): `--models`, else OLLAMA_MODELS trimmed of spaces and quotes, else $HOME/.ollama/models. */
export function resolveStoreRoot(root?: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (root !== undefined) {
    if (typeof root !== 'string' || root === '') throw new TypeError(`Expected a non-empty string for root but received ${JSON.stringify(root)}`);
    return resolve(root);
  }
  const fromEnv = (env.OLLAMA_MODELS ?? '').trim().replace(/^["']+|["']+$/g, '');
  if (fromEnv !== '') return resolve(fromEnv);
  return join(homedir(), '.ollama', 'models');
}

/**
 * Digests this process stored for a manifest it has not written yet. Counted, so two creates
 * sharing a blob each hold it; a writeManifest that names a digest releases one hold. A hold that
 * is never released (a create that failed) lapses after PIN_TTL_MS.
 */
class BlobPins {
  readonly #holds = new Map<string, { count: number; at: number }>();

  hold(digest: string): void {
    const key = normalizeDigest(digest);
    const entry = this.#holds.get(key) ?? { count: 0, at: 0 };
    entry.count++;
    entry.at = Date.now();
    this.#holds.set(key, entry);
  }

  release(digest: string): void {
    const key = normalizeDigest(digest);
    const entry = this.#holds.get(key);
    if (entry !== undefined && --entry.count <= 0) this.#holds.delete(key);
  }

  has(digest: string): boolean {
    const entry = this.#holds.get(normalizeDigest(digest));
    return entry !== undefined && Date.now() - entry.at < PIN_TTL_MS;
  }
}

/** Runs async sections one at a time, in call order. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(section: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(section);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/**
 * What every ModelStore on one root shares in this process: the pins, and a lock that makes
 * "resolve the name's spelling, write the manifest, release its pins" one step against "scan the
 * references, delete blobs" (rm, prune), so neither can slip between the other's two halves.
 * Other processes are not covered: there, as with Ollama, the mtime grace period is the guard.
 */
interface RootState {
  readonly pins: BlobPins;
  readonly lock: Mutex;
}
const ROOTS = new Map<string, RootState>();

export interface NewLayer {
  readonly layer: Layer;
  readonly created: boolean;
  /** Ollama's progress line: `creating new layer sha256:…` or `using existing layer sha256:…`. */
  readonly status: string;
}

export interface StoredManifest {
  readonly name: ModelName;
  readonly path: string;
  /** The file's exact bytes. */
  readonly bytes: Buffer;
  /** sha256 hex of the bytes: the model digest `ollama list`/`show` report. */
  readonly digest: string;
  readonly manifest: Manifest;
  readonly modifiedAt: Date;
}

export interface WrittenManifest {
  readonly name: ModelName;
  readonly path: string;
  readonly bytes: Buffer;
  readonly digest: string;
  /** The manifest this write replaced, if the name existed and parsed (its layers may now be unreferenced). */
  readonly previous?: Manifest;
}

export interface ModelListing {
  readonly name: ModelName;
  /** `llama3.2:latest`, `jmorgan/x:latest`, `hf.co/a/b:Q4_K_M` (DisplayShortest). */
  readonly displayName: string;
  /** sha256 hex of the manifest bytes. */
  readonly digest: string;
  /** First 12 hex digits of `digest`: the ID column. */
  readonly id: string;
  /** Σ layer sizes + config size. */
  readonly size: number;
  readonly modifiedAt: Date;
}

export interface RemoveResult {
  readonly name: ModelName;
  /** Digests whose blobs were deleted because no other manifest references them. */
  readonly removedBlobs: string[];
}

/** Ollama's progress line for a layer's blob: `creating new layer sha256:…` or `using existing layer sha256:…`. */
export function layerStatus(blob: { readonly created: boolean; readonly digest: string }): string {
  return `${blob.created ? 'creating new layer' : 'using existing layer'} ${blob.digest}`;
}

export class ModelStore {
  readonly root: string;
  readonly blobsDir: string;
  readonly manifestsDir: string;
  readonly #pins: BlobPins;
  readonly #lock: Mutex;

  /** Prefer openStore(), which also resolves --models / OLLAMA_MODELS / ~/.ollama/models. */
  constructor(root: string) {
    root = resolve(root);
    this.root = root;
    this.blobsDir = join(root, 'blobs');
    this.manifestsDir = join(root, 'manifests');
    let state = ROOTS.get(root);
    if (state === undefined) ROOTS.set(root, (state = { pins: new BlobPins(), lock: new Mutex() }));
    this.#pins = state.pins;
    this.#lock = state.lock;
  }

  // ---- blobs ----

  /** blobs/sha256-<hex> for a `sha256:<hex>` or `sha256-<hex>` digest (ERR_STORE_DIGEST otherwise). */
  blobPath(digest: string): string {
    return join(this.blobsDir, blobFileName(digest));
  }

  async hasBlob(digest: string): Promise<boolean> {
    return (await stat(this.blobPath(digest)).catch(() => undefined))?.isFile() ?? false;
  }

  async readBlob(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new StoreError('ERR_STORE_BLOB_MISSING', `blob ${digest} does not exist`, { path: this.blobPath(digest), digest });
      throw error;
    }
  }

  /** True while a blob this process stored waits for its manifest (rm and prune leave it alone). */
  isPinned(digest: string): boolean {
    return this.#pins.has(digest);
  }

  async #ensureDirs(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true, mode: 0o755 });
    await mkdir(this.manifestsDir, { recursive: true, mode: 0o755 });
  }

  /** A writer that streams into a new blob (GgufWriter.toSink accepts it); commit() returns the blob. */
  async createBlobWriter(): Promise<BlobWriter> {
    await this.#ensureDirs();
    return BlobWriter.open(this.blobsDir, (digest) => this.#pins.hold(digest));
  }

  /** Stores bytes (a string is UTF-8, no newline added) as a blob. */
  async putBlob(content: Uint8Array | string): Promise<BlobInfo> {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Uint8Array or string for content but received ${typeof content}`);
    const writer = await this.createBlobWriter();
    try {
      await writer.write(bytes);
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer.commit();
  }

  /** Stores a stream of chunks as a blob; an abort removes the temp and rejects with signal.reason. */
  async putBlobStream(source: AsyncIterable<Uint8Array>, options: { signal?: AbortSignal } = {}): Promise<BlobInfo> {
    const writer = await this.createBlobWriter();
    try {
      for await (const chunk of source) {
        options.signal?.throwIfAborted();
        await writer.write(chunk);
      }
      options.signal?.throwIfAborted();
    } catch (error) {
      await writer.abort();
      throw error;
    }
    return writer.commit();
  }

  /** Stores a file as a blob: copied while hashed, or with `link` reflinked / hard-linked when the file system allows. */
  async putBlobFile(path: string, options: BlobFileOptions = {}): Promise<BlobInfo & { method: BlobImportMethod }> {
    if (typeof path !== 'string' || path === '') throw new TypeError(`Expected a file path for path but received ${JSON.stringify(path)}`);
    await this.#ensureDirs();
    const hold = (digest: string) => this.#pins.hold(digest);
    if (options.link) return linkFileToBlob(this.blobsDir, path, options, hold);
    return { ...(await copyFileToBlob(this.blobsDir, path, options, hold)), method: 'copy' };
  }

  /**
   * A path in blobs/ for a file that will become a blob (pass it to adoptBlobFile once complete). Its
   * name is not a digest, so verify reports it as a temp and prune removes it if the writer dies.
   */
  async blobTempPath(label = ''): Promise<string> {
    await this.#ensureDirs();
    const tag = label.replace(/[^A-Za-z0-9_]/g, '');
    return join(this.blobsDir, tempFileName(`${BLOB_TEMP_PREFIX}${tag}${tag ? '-' : ''}`));
  }

  /** Stores a complete file from blobTempPath() as a blob (hashed once, renamed, no copy); the temp is gone afterwards. */
  async adoptBlobFile(path: string, options: { signal?: AbortSignal; onProgress?: (p: { completed: number; total: number }) => void } = {}): Promise<BlobInfo> {
    const full = resolve(path);
    if (dirname(full) !== this.blobsDir || !basename(full).startsWith(BLOB_TEMP_PREFIX)) {
      throw new StoreError('ERR_STORE_PATH', `only a temp file made by blobTempPath() can be adopted as a blob`, { path: full });
    }
    return adoptFileAsBlob(this.blobsDir, full, options, (digest) => this.#pins.hold(digest));
  }

  /** Ollama's NewLayer: store content and describe it as a layer of `mediaType`. */
  async newLayer(content: Uint8Array | string, mediaType: string): Promise<NewLayer> {
    const blob = await this.putBlob(content);
    const layer: Layer = { mediaType, digest: blob.digest, size: blob.size };
    return { layer, created: blob.created, status: layerStatus(blob) };
  }

  /** Ollama's NewLayerFromLayer: a layer over an existing blob (size from the file, mtime touched), e.g. inherited with `from`. */
  async layerFromBlob(digest: string, mediaType: string, extra: { from?: string; name?: string } = {}): Promise<Layer> {
    const path = this.blobPath(digest);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new StoreError('ERR_STORE_BLOB_MISSING', `blob ${digest} does not exist`, { path, digest });
    this.#pins.hold(digest);
    const now = new Date();
    await utimes(path, now, now);
    const layer: { -readonly [K in keyof Layer]: Layer[K] } = { mediaType, digest, size: info.size };
    if (extra.from) layer.from = extra.from;
    if (extra.name) layer.name = extra.name;
    return layer;
  }

  // ---- names and manifests ----

  /**
   * Parses a name and reuses the spelling of any existing manifest path whose parts match ignoring
   * case (Ollama's getExistingName), so `Foo` after `foo` exists means `foo` on every file system.
   * Matching is folder by folder: a part is only respelled after the part above it matched.
   */
  async resolveName(name: string | ModelName): Promise<ModelName> {
    const parsed = typeof name === 'string' ? parseModelName(name) : modelNameFromParts(name);
    const parts = manifestPathParts(parsed);
    const kinds: NamePart[] = ['host', 'namespace', 'model', 'tag'];
    let dir = this.manifestsDir;
    for (let i = 0; i < 4; i++) {
      let entries: string[];
      try {
        entries = (await readdir(dir)).sort();
      } catch {
        break;
      }
      const want = parts[i] as string;
      if (!entries.includes(want)) {
        const kind = kinds[i] as NamePart;
        const match = entries.find((e) => e.toLowerCase() === want.toLowerCase() && isValidNamePart(kind, e));
        if (match === undefined) break;
        parts[i] = match;
      }
      dir = join(dir, parts[i] as string);
    }
    const [host, namespace, model, tag] = parts;
    return { host, namespace, model, tag, scheme: parsed.scheme };
  }

  /** manifests/<host>/<namespace>/<model>/<tag>, checked to stay inside the store. */
  manifestPath(name: ModelName): string {
    const path = join(this.manifestsDir, ...manifestPathParts(modelNameFromParts(name)));
    const rel = relative(this.manifestsDir, path);
    if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).length !== 4) {
      throw new StoreError('ERR_STORE_PATH', `model name ${formatModelName(name)} maps outside the manifests folder`, { path });
    }
    return path;
  }

  async #checkBlob(layer: Layer): Promise<void> {
    const path = this.blobPath(layer.digest);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) throw new StoreError('ERR_STORE_BLOB_MISSING', `manifest names blob ${layer.digest}, which does not exist`, { path, digest: layer.digest });
    if (info.size !== layer.size) {
      throw new StoreError('ERR_STORE_BLOB_SIZE', `blob ${layer.digest} holds ${info.size} bytes but the layer says ${layer.size}`, { path, digest: layer.digest });
    }
  }

  /** Writes the manifest for `name` (WriteManifest's bytes) atomically, after checking that every blob it names is there. */
  async writeManifest(name: string | ModelName, config: Layer, layers: readonly Layer[]): Promise<WrittenManifest> {
    const bytes = encodeManifest(config, layers);
    return this.writeManifestBytes(name, bytes);
  }

  /** Stores manifest bytes verbatim (a registry's, or a copy), with the same checks as writeManifest. */
  writeManifestBytes(name: string | ModelName, bytes: Uint8Array): Promise<WrittenManifest> {
    return this.#lock.run(() => this.#writeManifestBytes(name, bytes));
  }

  async #writeManifestBytes(name: string | ModelName, bytes: Uint8Array): Promise<WrittenManifest> {
    const resolved = await this.resolveName(name);
    const path = this.manifestPath(resolved);
    const manifest = parseManifest(bytes, path);
    for (const layer of [...manifest.layers, manifest.config]) {
      digestHex(layer.digest);
      await this.#checkBlob(layer);
    }
    let previous: Manifest | undefined;
    try {
      previous = parseManifest(await readFile(path), path);
    } catch {
      previous = undefined;
    }
    await this.#ensureDirs();
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await writeFileAtomic(path, buffer, this.manifestsDir, MANIFEST_TEMP_PREFIX);
    for (const digest of manifestDigests(manifest)) this.#pins.release(digest);
    const written = { name: resolved, path, bytes: buffer, digest: createHash('sha256').update(buffer).digest('hex') };
    return previous === undefined ? written : { ...written, previous };
  }

  /** The manifest of `name` (case-insensitive like Ollama); ERR_STORE_NOT_FOUND when there is none. */
  async readManifest(name: string | ModelName): Promise<StoredManifest> {
    const resolved = await this.resolveName(name);
    const path = this.manifestPath(resolved);
    let bytes: Buffer;
    let modifiedAt: Date;
    try {
      bytes = await readFile(path);
      modifiedAt = (await stat(path)).mtime;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
        throw new StoreError('ERR_STORE_NOT_FOUND', `model "${displayShortest(resolved)}" not found`, { path, model: formatModelName(resolved) });
      }
      throw error;
    }
    return {
      name: resolved,
      path,
      bytes,
      digest: createHash('sha256').update(bytes).digest('hex'),
      manifest: parseManifest(bytes, path),
      modifiedAt,
    };
  }

  /** Every model: name, ID, size, modified; newest first. Files that are not valid manifests are skipped, as Ollama's list does. */
  async list(): Promise<ModelListing[]> {
    const out: ModelListing[] = [];
    for (const file of await listManifestFiles(this.manifestsDir)) {
      if (file.name === undefined) continue;
      try {
        const bytes = await readFile(file.path);
        const modifiedAt = (await stat(file.path)).mtime;
        const manifest = parseManifest(bytes, file.path);
        const digest = createHash('sha256').update(bytes).digest('hex');
        out.push({ name: file.name, displayName: displayShortest(file.name), digest, id: digest.slice(0, 12), size: manifestSize(manifest), modifiedAt });
      } catch {
        continue;
      }
    }
    return out.sort((a, b) => b.modifiedAt.getTime() - a.modifiedAt.getTime() || (a.displayName < b.displayName ? -1 : a.displayName > b.displayName ? 1 : 0));
  }

  /** `ollama cp`: the source manifest's bytes under a second name (no blob is copied). */
  async copy(source: string | ModelName, destination: string | ModelName): Promise<{ source: ModelName; destination: ModelName }> {
    const src = await this.readManifest(source);
    const dst = await this.resolveName(destination);
    if (this.manifestPath(dst) !== src.path) await this.writeManifestBytes(dst, src.bytes);
    return { source: src.name, destination: dst };
  }

  /** `ollama rm`: deletes the manifest, its now-empty folders, and every blob of it that no other manifest references. */
  remove(name: string | ModelName): Promise<RemoveResult> {
    return this.#lock.run(() => this.#remove(name));
  }

  async #remove(name: string | ModelName): Promise<RemoveResult> {
    const stored = await this.readManifest(name);
    await rm(stored.path);
    // Folders left empty (tag's model/namespace/host), never manifests/ itself; a concurrent writer retries its rename.
    for (let dir = dirname(stored.path); dir !== this.manifestsDir && dir.startsWith(this.manifestsDir); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
    const removedBlobs = await this.#deleteUnreferencedBlobs(manifestDigests(stored.manifest));
    return { name: stored.name, removedBlobs };
  }

  /**
   * Ollama's deleteUnusedLayers: deletes those of `digests` that no manifest references and that no
   * create in this process holds (create calls this for the layers of a manifest it replaced).
   */
  deleteUnreferencedBlobs(digests: readonly string[]): Promise<string[]> {
    return this.#lock.run(() => this.#deleteUnreferencedBlobs(digests));
  }

  async #deleteUnreferencedBlobs(digests: readonly string[]): Promise<string[]> {
    const { digests: referenced } = await collectReferences(this.manifestsDir);
    const removed: string[] = [];
    for (const digest of new Set(digests)) {
      if (!/^sha256[:-][0-9a-fA-F]{64}$/.test(digest)) continue;
      if (referenced.has(normalizeDigest(digest)) || this.#pins.has(digest)) continue;
      try {
        await rm(this.blobPath(digest));
        removed.push(digest);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return removed;
  }

  // ---- upkeep ----

  /** Unreferenced blobs and stray temp files older than the grace period (1 h); `dryRun` reports exactly what it would delete. */
  prune(options: PruneOptions = {}): Promise<PruneReport> {
    return this.#lock.run(() => pruneStore(this, options));
  }

  /** Re-hashes every blob and checks every manifest reference; problems are reported, never repaired. */
  verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    // Manifest checks under the lock (a blob an rm deletes mid-check is not "missing"); hashing outside it.
    return verifyStore(this, options, (section) => this.#lock.run(section));
  }
}

/** Opens the store at `--models` / $OLLAMA_MODELS / ~/.ollama/models. Folders are created on the first write, not here. */
export async function openStore(options: string | StoreOptions = {}): Promise<ModelStore> {
  const { root, env } = typeof options === 'string' ? { root: options, env: undefined } : options;
  const path = resolveStoreRoot(root, env);
  const info = await stat(path).catch(() => undefined);
  if (info !== undefined && !info.isDirectory()) throw new StoreError('ERR_STORE_ROOT', 'the model store root is not a folder', { path });
  return new ModelStore(path);
}
