// Manifests and digests as Ollama writes them (manifest/manifest.go, manifest/layer.go): a Docker v2
// image manifest whose layers are Ollama media types, encoded by json.NewEncoder in struct order.
import { StoreError } from './errors.js';
import { encodeGoJson, goStruct, type GoStruct } from './goJson.js';

export const MEDIA_TYPES = {
  model: 'application/vnd.ollama.image.model',
  projector: 'application/vnd.ollama.image.projector',
  adapter: 'application/vnd.ollama.image.adapter',
  draft: 'application/vnd.ollama.image.draft',
  template: 'application/vnd.ollama.image.template',
  /** Legacy name of template; read, never written. */
  prompt: 'application/vnd.ollama.image.prompt',
  system: 'application/vnd.ollama.image.system',
  license: 'application/vnd.ollama.image.license',
  params: 'application/vnd.ollama.image.params',
  messages: 'application/vnd.ollama.image.messages',
  /** Deprecated since 0.1.2; Ollama ignores it with a warning. */
  embed: 'application/vnd.ollama.image.embed',
  tensor: 'application/vnd.ollama.image.tensor',
  json: 'application/vnd.ollama.image.json',
  config: 'application/vnd.docker.container.image.v1+json',
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export type MediaType = (typeof MEDIA_TYPES)[keyof typeof MEDIA_TYPES];

export interface Layer {
  readonly mediaType: string;
  /** `sha256:<64 hex>`. */
  readonly digest: string;
  readonly size: number;
  /** The model a layer was inherited from (`llama3.2:latest`) or the source file name of a GGUF taken as-is. */
  readonly from?: string;
  /** Tensor or file name of safetensors/MLX layers (image.tensor, image.json). */
  readonly name?: string;
}

export interface Manifest {
  readonly schemaVersion: number;
  readonly mediaType: string;
  readonly config: Layer;
  readonly layers: readonly Layer[];
}

const DIGEST = /^sha256[:-]([0-9a-fA-F]{64})$/;

/** The 64 hex digits of a digest written `sha256:<hex>` or `sha256-<hex>` (BlobsPath's rule), case kept; ERR_STORE_DIGEST otherwise. */
export function digestHex(digest: string): string {
  const match = typeof digest === 'string' ? DIGEST.exec(digest) : null;
  if (match === null) throw new StoreError('ERR_STORE_DIGEST', `invalid digest format: ${JSON.stringify(digest)} (expected sha256:<64 hex digits>)`, { digest: String(digest) });
  return match[1] as string;
}

export function isDigest(digest: string): boolean {
  return typeof digest === 'string' && DIGEST.test(digest);
}

/** The blob's file name in `blobs/`: `sha256-<hex>`. */
export function blobFileName(digest: string): string {
  return `sha256-${digestHex(digest)}`;
}

/** The digest a blob file name stands for, or undefined for temp files and anything else. */
export function digestOfBlobFileName(fileName: string): string | undefined {
  const match = /^sha256-([0-9a-fA-F]{64})$/.exec(fileName);
  return match === null ? undefined : `sha256:${match[1]}`;
}

function layerStruct(layer: Layer): GoStruct {
  return goStruct([
    { name: 'mediaType', value: layer.mediaType },
    { name: 'digest', value: layer.digest },
    { name: 'size', value: BigInt(layer.size) },
    { name: 'from', value: layer.from, omitEmpty: true },
    { name: 'name', value: layer.name, omitEmpty: true },
  ]);
}

function checkLayer(layer: Layer, where: string): void {
  if (layer === null || typeof layer !== 'object') throw new TypeError(`Expected a layer object for ${where} but received ${String(layer)}`);
  if (typeof layer.mediaType !== 'string' || layer.mediaType === '') throw new TypeError(`Expected a media type string for ${where}.mediaType but received ${String(layer.mediaType)}`);
  digestHex(layer.digest);
  if (!Number.isSafeInteger(layer.size) || layer.size < 0) throw new RangeError(`Expected a non-negative integer for ${where}.size but received ${String(layer.size)}`);
  if (layer.from !== undefined && typeof layer.from !== 'string') throw new TypeError(`Expected a string for ${where}.from but received ${typeof layer.from}`);
  if (layer.name !== undefined && typeof layer.name !== 'string') throw new TypeError(`Expected a string for ${where}.name but received ${typeof layer.name}`);
}

/** The manifest bytes WriteManifest produces: schemaVersion 2, Docker v2 media type, config, layers, "\n". */
export function encodeManifest(config: Layer, layers: readonly Layer[]): Buffer {
  checkLayer(config, 'config');
  layers.forEach((layer, i) => checkLayer(layer, `layers[${i}]`));
  return encodeGoJson(
    goStruct([
      { name: 'schemaVersion', value: 2n },
      { name: 'mediaType', value: MEDIA_TYPES.manifest },
      { name: 'config', value: layerStruct(config) },
      { name: 'layers', value: layers.map(layerStruct) },
    ]),
  );
}

function parseLayer(value: unknown, where: string, path: string | undefined): Layer {
  const bad = (what: string): never => {
    throw new StoreError('ERR_STORE_MANIFEST', `manifest ${where}: ${what}`, path === undefined ? {} : { path });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad('is not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.mediaType !== 'string') bad('mediaType is not a string');
  if (typeof v.digest !== 'string') bad('digest is not a string');
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) bad('size is not a non-negative integer');
  if (v.from !== undefined && typeof v.from !== 'string') bad('from is not a string');
  if (v.name !== undefined && typeof v.name !== 'string') bad('name is not a string');
  const layer: { -readonly [K in keyof Layer]: Layer[K] } = { mediaType: v.mediaType as string, digest: v.digest as string, size: v.size as number };
  if (typeof v.from === 'string' && v.from !== '') layer.from = v.from;
  if (typeof v.name === 'string' && v.name !== '') layer.name = v.name;
  return layer;
}

/**
 * Reads manifest bytes (ours, Ollama's, or a registry's stored verbatim). Digests are not checked
 * here, so a manifest with a malformed one can still be listed and removed; verify() reports it.
 */
export function parseManifest(bytes: Uint8Array, path?: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new StoreError('ERR_STORE_MANIFEST', `manifest is not JSON: ${(error as Error).message}`, path === undefined ? {} : { path });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StoreError('ERR_STORE_MANIFEST', 'manifest is not a JSON object', path === undefined ? {} : { path });
  }
  const v = value as Record<string, unknown>;
  const layersValue = v.layers ?? [];
  if (!Array.isArray(layersValue)) throw new StoreError('ERR_STORE_MANIFEST', 'manifest layers is not an array', path === undefined ? {} : { path });
  return {
    schemaVersion: typeof v.schemaVersion === 'number' ? v.schemaVersion : 0,
    mediaType: typeof v.mediaType === 'string' ? v.mediaType : '',
    config: parseLayer(v.config, 'config', path),
    layers: layersValue.map((layer, i) => parseLayer(layer, `layers[${i}]`, path)),
  };
}

/** Every digest a manifest references: its layers, then its config (Ollama's `append(m.Layers, m.Config)`). */
export function manifestDigests(manifest: Manifest): string[] {
  return [...manifest.layers.map((layer) => layer.digest), manifest.config.digest];
}

/** Σ layer sizes + config size: the SIZE `ollama list` shows. */
export function manifestSize(manifest: Manifest): number {
  return manifest.layers.reduce((sum, layer) => sum + layer.size, manifest.config.size);
}
