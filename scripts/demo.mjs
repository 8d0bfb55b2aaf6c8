#!/usr/bin/env node
// `npm run demo`: make a small Llama-shaped F16 model on the spot, create an Ollama model from it with
// a Modelfile (TEMPLATE, SYSTEM, PARAMETER) quantized to Q4_K_M into a temporary store, then list and
// show it — the same commands a user runs, against a folder an Ollama could serve.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtimeInfo, writeSyntheticLlama } from '../dist/index.js';
import { main } from '../dist/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-demo-'));
const models = join(dir, 'models');
const gguf = join(dir, 'tiny-llama-f16.gguf');
const modelfile = join(dir, 'Modelfile');

async function run(...args) {
  console.log(`\n$ gguf-forge ${args.join(' ')}`);
  const code = await main(args);
  if (code !== 0) throw new Error(`gguf-forge ${args[0]} exited with ${code}`);
}

try {
  const info = runtimeInfo();
  console.log(`gguf-forge ${info.version} on ${info.platform}, kernels: ${info.isa ?? 'unavailable'}, threads: ${info.threads ?? '-'}`);
  const { parameters, tensors } = await writeSyntheticLlama(gguf, { embd: 256, layers: 2, heads: 4, ff: 512, vocab: 320, seed: 42, name: 'gguf-forge demo' });
  console.log(`wrote ${gguf}: ${tensors} tensors, ${parameters} parameters, F16`);
  writeFileSync(
    modelfile,
    [
      'FROM ./tiny-llama-f16.gguf',
      'TEMPLATE """{{ if .System }}<|system|>{{ .System }}<|end|>{{ end }}<|user|>{{ .Prompt }}<|end|><|assistant|>"""',
      'SYSTEM You are a tiny demo model with random weights.',
      'PARAMETER temperature 0.7',
      'PARAMETER num_ctx 2048',
      'PARAMETER stop <|end|>',
      '',
    ].join('\n'),
  );
  console.log(`wrote ${modelfile}`);
  await run('create', 'demo', '-f', modelfile, '-q', 'Q4_K_M', '--models', models);
  await run('list', '--models', models);
  await run('show', 'demo', '--models', models);
  await run('verify', '--models', models);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
