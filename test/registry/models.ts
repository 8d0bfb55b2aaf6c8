// Models for registry tests, made with the store API: a synthetic Llama GGUF (or raw bytes) as the
// model layer, a template, params and a config blob, under a name on the test registry.
import { join } from 'node:path';
import { encodeConfigBlob, encodeParamsBlob } from '../../lib/store/configBlob.js';
import { MEDIA_TYPES, type Layer } from '../../lib/store/manifest.js';
import type { ModelStore, WrittenManifest } from '../../lib/store/store.js';
import { writeSyntheticLlama, type SyntheticLlamaOptions } from '../../lib/synthetic/llamaModel.js';
import { tempDirs } from '../tempDirs.js';

export { sha256 } from '../tempDirs.js';

// Removed by removeTempDirs(), which test files call from afterAll (the benchmark imports this module too).
const dirs = tempDirs('gguf-forge-registry');
/** A fresh folder under os.tmpdir(), removed by removeTempDirs(). */
export const tempDir = dirs.tempDir;
/** Removes every folder tempDir() made. */
export const removeTempDirs = dirs.removeAll;

/** Stores a synthetic Llama GGUF as the model layer; returns it. */
export async function ggufLayer(store: ModelStore, options: SyntheticLlamaOptions = {}): Promise<Layer> {
  const dir = tempDir('gguf');
  const path = join(dir, 'model.gguf');
  await writeSyntheticLlama(path, { embd: 64, layers: 2, heads: 4, ff: 128, vocab: 300, ...options });
  const blob = await store.putBlobFile(path);
  return { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size };
}

/** Deterministic pseudo-random bytes (xorshift32), fast enough for hundreds of MB. */
export function patternBytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  const words = Math.floor(size / 4);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i * 4);
  }
  for (let i = words * 4; i < size; i++) out[i] = i & 0xff;
  return out;
}

/** Writes a model (model layer + template + params + config) under `name`. */
export async function writeModel(
  store: ModelStore,
  name: string,
  model: Layer,
  extra: { template?: string; system?: string; from?: string } = {},
): Promise<WrittenManifest> {
  const layers: Layer[] = [extra.from === undefined ? model : { ...model, from: extra.from }];
  layers.push((await store.newLayer(extra.template ?? '{{ .Prompt }}', MEDIA_TYPES.template)).layer);
  if (extra.system !== undefined) layers.push((await store.newLayer(extra.system, MEDIA_TYPES.system)).layer);
  layers.push((await store.newLayer(encodeParamsBlob({ stop: ['</s>'] }), MEDIA_TYPES.params)).layer);
  const config = await store.newLayer(
    encodeConfigBlob({ modelFormat: 'gguf', modelFamily: 'llama', modelFamilies: ['llama'], modelType: '1M', fileType: 'F16', architecture: 'amd64', os: 'linux' }),
    MEDIA_TYPES.config,
  );
  return store.writeManifest(name, config.layer, layers);
}
