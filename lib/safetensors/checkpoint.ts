// A Hugging Face checkpoint's safetensors weights: one file or several shards, found the way
// llama.cpp's convert_hf_to_gguf.py finds them (model*.safetensors, or the files named by
// model.safetensors.index.json), tensors listed in its order: shards by file name, names sorted
// within each shard. The index must agree with the shards exactly, and no name may appear twice.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SafetensorsError } from './errors.js';
import { SafetensorsFile } from './file.js';
import type { SafetensorsTensorInfo } from './header.js';
import { compareUtf8 } from '../utf8Order.js';

export const INDEX_FILE = 'model.safetensors.index.json';
/** An index file is JSON of a few MB at most (one entry per tensor); refuse absurd ones before reading. */
const MAX_INDEX_BYTES = 64 << 20;

export interface CheckpointTensor extends SafetensorsTensorInfo {
  file: SafetensorsFile;
}

function shardName(value: unknown, index: string): string {
  // Shards live beside the index: a bare file name, nothing that climbs out of the directory.
  if (typeof value !== 'string' || value.length === 0 || value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw new SafetensorsError('ERR_SAFETENSORS_INDEX', `weight_map names the shard ${JSON.stringify(value)}: expected a file name in the same directory`, { file: index });
  }
  return value;
}

function readIndex(path: string): { weightMap: Map<string, string>; parts: string[] } {
  const size = statSync(path).size;
  if (size > MAX_INDEX_BYTES) throw new SafetensorsError('ERR_SAFETENSORS_INDEX', `Index is ${size} bytes, over the ${MAX_INDEX_BYTES}-byte limit`, { file: path });
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SafetensorsError('ERR_SAFETENSORS_INDEX', `Index is not JSON: ${(e as Error).message}`, { file: path });
  }
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new SafetensorsError('ERR_SAFETENSORS_INDEX', "Can't load 'weight_map' from the index: expected an object of tensor name to shard file", { file: path });
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap)) map.set(name, shardName(file, path));
  return { weightMap: map, parts: [...new Set(map.values())].sort() };
}

export class SafetensorsCheckpoint implements Disposable {
  /** Directory holding the weights. */
  readonly dir: string;
  /** Shard files in reading order. */
  readonly files: readonly SafetensorsFile[];
  /** Every tensor, in reading order (shards by name, then names sorted within a shard). */
  readonly tensors: readonly CheckpointTensor[];
  readonly #byName: Map<string, CheckpointTensor>;

  private constructor(dir: string, files: SafetensorsFile[], tensors: CheckpointTensor[]) {
    this.dir = dir;
    this.files = files;
    this.tensors = tensors;
    this.#byName = new Map(tensors.map((t) => [t.name, t]));
  }

  /**
   * Opens the weights of a model directory (through model.safetensors.index.json when present,
   * else every model*.safetensors), or a single .safetensors file, or an index file.
   */
  static open(path: string): SafetensorsCheckpoint {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError(`Expected a non-empty string for path but received ${String(path)} of type ${typeof path}`);
    if (!existsSync(path)) throw new SafetensorsError('ERR_SAFETENSORS_NOT_FOUND', `No such file or directory: ${path}`, { file: path });
    let dir: string;
    let parts: string[];
    let weightMap: Map<string, string> | undefined;
    let indexPath: string | undefined;
    if (statSync(path).isDirectory()) {
      dir = path;
      if (existsSync(join(dir, INDEX_FILE))) indexPath = join(dir, INDEX_FILE);
      else {
        parts = readdirSync(dir).filter((f) => f.startsWith('model') && f.endsWith('.safetensors')).sort();
        if (parts.length === 0) throw new SafetensorsError('ERR_SAFETENSORS_NOT_FOUND', `No model*.safetensors file and no ${INDEX_FILE} in ${dir}`, { file: dir });
      }
    } else if (path.endsWith('.json')) {
      dir = dirname(path);
      indexPath = path;
    } else {
      dir = dirname(path);
      parts = [basename(path)];
    }
    if (indexPath) ({ weightMap, parts } = readIndex(indexPath));

    const files: SafetensorsFile[] = [];
    try {
      const tensors: CheckpointTensor[] = [];
      const seen = new Map<string, string>();
      for (const part of parts!) {
        const partPath = join(dir, part);
        if (!existsSync(partPath)) throw new SafetensorsError('ERR_SAFETENSORS_INDEX', `Missing model file ${part} named by the index`, { file: indexPath ?? partPath });
        const file = SafetensorsFile.open(partPath);
        files.push(file);
        for (const info of file.tensors) {
          const first = seen.get(info.name);
          if (first !== undefined) throw new SafetensorsError('ERR_SAFETENSORS_DUPLICATE', `Tensor "${info.name}" is in both ${first} and ${part}`, { file: partPath, tensor: info.name });
          seen.set(info.name, part);
          tensors.push({ ...info, file });
        }
      }
      if (weightMap) {
        const missing = [...weightMap.keys()].filter((n) => !seen.has(n)).sort(compareUtf8);
        const extra = [...seen.keys()].filter((n) => !weightMap!.has(n)).sort(compareUtf8);
        const misplaced = [...weightMap].filter(([n, f]) => seen.has(n) && seen.get(n) !== f).map(([n]) => n);
        if (missing.length || extra.length || misplaced.length) {
          const list = (xs: string[]) => (xs.length > 5 ? `${xs.slice(0, 5).join(', ')} … (${xs.length})` : xs.join(', '));
          throw new SafetensorsError(
            'ERR_SAFETENSORS_INDEX',
            `The index and the shards disagree: missing tensors [${list(missing)}], extra tensors [${list(extra)}], in another shard than indexed [${list(misplaced)}]`,
            { file: indexPath },
          );
        }
      }
      return new SafetensorsCheckpoint(dir, files, tensors);
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
  }

  tensor(name: string): CheckpointTensor | undefined {
    return this.#byName.get(name);
  }

  close(): void {
    for (const f of this.files) f.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
