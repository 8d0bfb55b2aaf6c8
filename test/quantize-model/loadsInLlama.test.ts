// The reference runtime must load what we write: stories260K (a real, trained llama2.c model)
// quantized by gguf-forge into every file type loads in node-llama-cpp (llama.cpp on the CPU) and
// generates text. Greedy decoding from the F32 original and from Q8_0 must tell the same story.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { FILE_TYPE_NAMES } from '../../lib/quantize/fileTypes.js';
import { quantizeModel } from '../../lib/quantize/quantizeModel.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';

type NodeLlama = typeof import('node-llama-cpp');
let nlc: NodeLlama | undefined;
let unavailable = '';
try {
  nlc = await import('node-llama-cpp');
} catch (e) {
  unavailable = (e as Error).message;
}
if (!nlc) console.warn(`node-llama-cpp unavailable, skipping: ${unavailable}`);

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-nlc-'));
const stories = sharedDataAvailable ? sharedData('gguf', 'models', 'stories260K.gguf') : '';
let llama: Awaited<ReturnType<NodeLlama['getLlama']>> | undefined;

beforeAll(async () => {
  if (nlc) llama = await nlc.getLlama({ gpu: false, build: 'never', logLevel: nlc.LlamaLogLevel.error });
}, 120_000);
afterAll(async () => {
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function generate(modelPath: string): Promise<string> {
  const model = await llama!.loadModel({ modelPath });
  try {
    const context = await model.createContext({ contextSize: 128, threads: 2 });
    try {
      const completion = new nlc!.LlamaCompletion({ contextSequence: context.getSequence() });
      return await completion.generateCompletion('Once upon a time', { maxTokens: 24, temperature: 0 });
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

describe.skipIf(!nlc || !sharedDataAvailable)('stories260K quantized by gguf-forge runs in node-llama-cpp', () => {
  let original = '';
  beforeAll(async () => {
    original = await generate(stories);
  }, 60_000);

  test.each(FILE_TYPE_NAMES)('%s loads and generates', async (type) => {
    const out = join(dir, `stories-${type}.gguf`);
    await quantizeModel(stories, out, type, { threads: 2 });
    const text = await generate(out);
    expect(text.trim().length).toBeGreaterThan(10);
    expect(text).toMatch(/[a-z]+ [a-z]+/i);
    // Near-lossless types reproduce the original's greedy continuation.
    if (type === 'F32' || type === 'F16' || type === 'BF16' || type === 'Q8_0') expect(text.split(' ').slice(0, 6)).toEqual(original.split(' ').slice(0, 6));
    rmSync(out, { force: true });
  }, 60_000);
});
