// Paths of the real GGUF files in shared/data (read in place, never copied into the repository).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { sharedData } from '../sharedData.js';

export const GGUF_DATA = sharedData('gguf');
export const haveGgufData = existsSync(GGUF_DATA);

export function realGgufFiles(): string[] {
  if (!haveGgufData) return [];
  const out: string[] = [];
  for (const dir of readdirSync(GGUF_DATA).sort()) {
    for (const f of readdirSync(join(GGUF_DATA, dir)).sort()) if (f.endsWith('.gguf')) out.push(join(GGUF_DATA, dir, f));
  }
  return out;
}

export const LARGEST_VOCAB = join(GGUF_DATA, 'llama.cpp-vocab/ggml-vocab-deepseek-llm.gguf');
export const MODEL_FILES = [join(GGUF_DATA, 'models/stories260K.gguf'), join(GGUF_DATA, 'models/llama-2-tiny-random.gguf')];
