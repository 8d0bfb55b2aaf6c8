#!/usr/bin/env node
// `npm run demo`: make a small Llama-shaped model with random weights, store its matrices as F16
// through the native converter, write it as GGUF, map it back, check the bytes and show it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GgufValueType, GgmlType, MappedGguf, fp16ToFp32, fp32ToFp16, readGguf, runtimeInfo, writeGguf } from '../dist/index.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-demo-'));
const path = join(dir, 'tiny-llama-f16.gguf');
const embd = 64, layers = 2, ff = 192, vocab = 32, heads = 4;

let seed = 42;
function random() {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}
function matrix(cols, rows) {
  const values = new Float32Array(cols * rows);
  for (let i = 0; i < values.length; i++) values[i] = random() * 0.2;
  return values;
}

const tensors = [];
function addF16(name, cols, rows) {
  const bits = fp32ToFp16(matrix(cols, rows));
  tensors.push({ name, type: GgmlType.F16, shape: [cols, rows], data: new Uint8Array(bits.buffer) });
}
function addNorm(name) {
  const ones = new Float32Array(embd).fill(1);
  tensors.push({ name, type: GgmlType.F32, shape: [embd], data: new Uint8Array(ones.buffer) });
}
addF16('token_embd.weight', embd, vocab);
for (let i = 0; i < layers; i++) {
  addNorm(`blk.${i}.attn_norm.weight`);
  for (const t of ['attn_q', 'attn_k', 'attn_v', 'attn_output']) addF16(`blk.${i}.${t}.weight`, embd, embd);
  addNorm(`blk.${i}.ffn_norm.weight`);
  addF16(`blk.${i}.ffn_gate.weight`, embd, ff);
  addF16(`blk.${i}.ffn_up.weight`, embd, ff);
  addF16(`blk.${i}.ffn_down.weight`, ff, embd);
}
addNorm('output_norm.weight');
addF16('output.weight', embd, vocab);

const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: vocab - 3 }, (_, i) => String.fromCharCode(97 + (i % 26)) + (i >= 26 ? i : ''))];
const u32 = (key, value) => ({ key, type: GgufValueType.UINT32, value });
const metadata = [
  { key: 'general.architecture', type: GgufValueType.STRING, value: 'llama' },
  { key: 'general.name', type: GgufValueType.STRING, value: 'gguf-forge demo' },
  u32('general.file_type', 1),
  u32('llama.context_length', 256),
  u32('llama.embedding_length', embd),
  u32('llama.block_count', layers),
  u32('llama.feed_forward_length', ff),
  u32('llama.attention.head_count', heads),
  u32('llama.attention.head_count_kv', heads),
  { key: 'llama.attention.layer_norm_rms_epsilon', type: GgufValueType.FLOAT32, value: Math.fround(1e-5) },
  { key: 'tokenizer.ggml.model', type: GgufValueType.STRING, value: 'llama' },
  { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.STRING, items: tokens } },
  { key: 'tokenizer.ggml.scores', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.FLOAT32, items: new Float32Array(vocab) } },
  { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, value: { itemType: GgufValueType.INT32, items: new Int32Array(vocab).fill(1) } },
];

try {
  const info = runtimeInfo();
  console.log(`gguf-forge ${info.version} on ${info.platform}, kernels: ${info.isa ?? 'unavailable'}, threads: ${info.threads ?? '-'}`);
  await writeGguf(path, metadata, tensors);
  const gguf = await readGguf(path);
  console.log(`wrote ${path}: ${gguf.tensors.length} tensors, ${gguf.parameterCount} parameters, file type ${gguf.fileType}, ${gguf.fileSize} bytes`);

  // Read the tensors back through the memory mapping (no copy) and compare with what was written.
  const mapped = MappedGguf.open(path);
  try {
    let checked = 0;
    for (const t of tensors) {
      const view = mapped.tensorData(t.name);
      if (Buffer.compare(Buffer.from(view.buffer, view.byteOffset, view.byteLength), Buffer.from(t.data)) !== 0) throw new Error(`${t.name}: bytes differ`);
      checked += view.byteLength;
    }
    const embdView = mapped.tensorData('token_embd.weight');
    const firstRow = fp16ToFp32(new Uint16Array(embdView.buffer, embdView.byteOffset, embd));
    console.log(`mapped back ${checked} bytes of tensor data, identical; token_embd row 0 starts ${Array.from(firstRow.slice(0, 4), (v) => v.toFixed(4)).join(', ')}`);
  } finally {
    mapped.close();
  }
  console.log('\n$ gguf-forge inspect', path);
} catch (err) {
  rmSync(dir, { recursive: true, force: true });
  throw err;
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(['inspect', path]);
rmSync(dir, { recursive: true, force: true });
