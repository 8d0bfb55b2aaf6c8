// Shared pieces of the create tests: temp folders, the shared tiny Llama and its Modelfile, and small
// GGUFs written on the spot (a LoRA adapter, a model carrying a chat template).
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType, type GgufMetadataEntry } from '../../lib/gguf/types.js';
import { writeGguf } from '../../lib/gguf/writer.js';
import type { ModelStore } from '../../lib/store/store.js';
import { sharedData } from '../sharedData.js';
import { tempDirs } from '../tempDirs.js';

export { sha256 } from '../tempDirs.js';

/** Real GGUF written by llama.cpp's converter (ollama's api/data test model): F16, 12 tensors, 513048 parameters. */
export const TINY_GGUF = sharedData('gguf', 'models', 'llama-2-tiny-random.gguf');
/** sha256 of TINY_GGUF, as MANIFEST.md records it. */
export const TINY_DIGEST = 'sha256:81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb';
export const TINY_SIZE = 1_750_560;
/** The Modelfile ollama kept next to it (FROM llama-2-tiny-random.gguf; seed, top_p, two stop). */
export const TINY_MODELFILE = sharedData('ollama', 'modelfiles', 'ollama-api-data-llama-2-tiny-random.Modelfile');
/** Where its relative FROM resolves (ollama's api/data folder holds both; shared data keeps them apart). */
export const TINY_DIR = sharedData('gguf', 'models');

const dirs = tempDirs('gguf-forge-create');
afterAll(() => dirs.removeAll());
/** A fresh folder under os.tmpdir(), removed after the file's tests. */
export const tempDir = dirs.tempDir;

export function blobText(store: ModelStore, digest: string): string {
  return readFileSync(store.blobPath(digest), 'utf8');
}

/** Every file in blobs/, by name. */
export function blobFiles(store: ModelStore): string[] {
  try {
    return readdirSync(store.blobsDir).sort();
  } catch {
    return [];
  }
}

const str = (key: string, value: string): GgufMetadataEntry => ({ key, type: GgufValueType.STRING, value });
const u32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: GgufValueType.UINT32, value });
const f32 = (key: string, value: number): GgufMetadataEntry => ({ key, type: GgufValueType.FLOAT32, value: Math.fround(value) });

function f32Tensor(name: string, shape: number[], seed: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = Math.sin(seed + i) / 8;
  return { name, type: GgmlType.F32, shape, data: new Uint8Array(values.buffer) };
}

/** A LoRA adapter GGUF as llama.cpp's convert_lora_to_gguf lays it out (general.type=adapter, lora_a/lora_b pairs). */
export async function writeLoraAdapter(path: string, options: { architecture?: string; kind?: string; rank?: number; embd?: number } = {}): Promise<void> {
  const rank = options.rank ?? 2;
  const embd = options.embd ?? 8;
  await writeGguf(
    path,
    [
      str('general.architecture', options.architecture ?? 'llama'),
      str('general.type', options.kind ?? 'adapter'),
      str('adapter.type', 'lora'),
      f32('adapter.lora.alpha', 16),
    ],
    [
      f32Tensor('blk.0.attn_q.weight.lora_a', [embd, rank], 1),
      f32Tensor('blk.0.attn_q.weight.lora_b', [rank, embd], 2),
      f32Tensor('blk.0.attn_v.weight.lora_a', [embd, rank], 3),
      f32Tensor('blk.0.attn_v.weight.lora_b', [rank, embd], 4),
    ],
  );
}

/** A minimal F32 GGUF (general.type `kind`, default model); `chatTemplate` adds tokenizer.chat_template. */
export async function writeSmallModel(path: string, options: { chatTemplate?: string; architecture?: string; seed?: number; kind?: string } = {}): Promise<void> {
  const arch = options.architecture ?? 'llama';
  const metadata = [
    str('general.architecture', arch),
    str('general.type', options.kind ?? 'model'),
    u32('general.file_type', 0),
    u32(`${arch}.context_length`, 128),
    u32(`${arch}.embedding_length`, 8),
    u32(`${arch}.block_count`, 1),
  ];
  if (options.chatTemplate !== undefined) metadata.push(str('tokenizer.chat_template', options.chatTemplate));
  await writeGguf(path, metadata, [f32Tensor('token_embd.weight', [8, 16], options.seed ?? 0), f32Tensor('output_norm.weight', [8], 5)]);
}
