// Our GGUF LoRAs load in llama.cpp (node-llama-cpp) on bases with the adapters' real attention
// shapes and change the logits; merge-lora output gives the logits llama.cpp gives with the adapter
// applied at run time; and for a Llama base (Q/K permuted) both equal a model merged in Hugging
// Face space and converted, which checks the permutation independently.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { convertAdapter, mergeLora } from '../../lib/lora/index.js';
import { writeSafetensors } from '../../lib/safetensors/writer.js';
import { llamaSpecs, Rng, TOKENIZERS, writeHfModel } from '../convert/hfFixtures.js';
import { disposeRuntime, nlc, runtime } from '../convert/llamaRuntime.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { LLAMA3_8B, QWEN25_05B, writeBase } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-lora-runtime-'));
afterAll(async () => {
  await disposeRuntime();
  rmSync(dir, { recursive: true, force: true });
});

/** Logits after each of `tokens` (the last position), with an optional LoRA at `scale`. */
async function logits(modelPath: string, tokens: number[], lora?: string, scale = 1): Promise<Float32Array> {
  const model = await (await runtime()).loadModel({ modelPath });
  try {
    // An F32 KV cache and no flash attention (which rounds Q to F16 on the CPU): otherwise last-bit
    // differences between run-time and merged weights are rounded to F16 and show up ~1000× larger.
    const context = await model.createContext({
      contextSize: 64,
      threads: 2,
      flashAttention: false,
      experimentalKvCacheKeyType: nlc!.GgmlType.F32,
      experimentalKvCacheValueType: nlc!.GgmlType.F32,
      ...(lora ? { lora: { adapters: [{ filePath: lora, scale }] } } : {}),
    });
    try {
      const input = tokens.map((t, i) => (i === tokens.length - 1 ? ([t, { generateNext: { logits: true } }] as const) : t));
      const out = await context.getSequence().controlledEvaluate(input as Parameters<ReturnType<typeof context.getSequence>['controlledEvaluate']>[0]);
      const l = out[tokens.length - 1]?.next?.logits;
      if (!l) throw new Error('no logits returned');
      return Float32Array.from(l.values());
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
  }
}

/** max |a − b| / max |b|. */
function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

const TOKENS = [1, 262, 300, 301, 302, 303];

describe.skipIf(!nlc || !sharedDataAvailable)('GGUF LoRAs in llama.cpp', () => {
  test('PEFT Qwen2.5-0.5B adapter on a Qwen2 base of its dimensions: applied at run time, and merge-lora gives the same logits', async () => {
    const base = join(dir, 'qwen.gguf');
    writeBase(base, { ...QWEN25_05B, type: 'F32' });
    const lora = join(dir, 'qwen-lora.gguf');
    await convertAdapter(sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8'), lora, { base });
    const plain = await logits(base, TOKENS);
    const applied = await logits(base, TOKENS, lora);
    const changed = relativeError(applied, plain);
    expect(changed, 'the adapter changes the logits').toBeGreaterThan(1e-3);

    const merged = join(dir, 'qwen-merged.gguf');
    const started = performance.now();
    const result = await mergeLora(base, lora, merged, { threads: 2 });
    const seconds = (performance.now() - started) / 1000;
    console.log(`merge-lora Qwen2.5-0.5B-shaped base (${(result.outputBytes / 2 ** 20).toFixed(0)} MiB F32, ${result.merged.length} tensors merged): ${seconds.toFixed(2)} s`);
    const mergedLogits = await logits(merged, TOKENS);
    const err = relativeError(mergedLogits, applied);
    console.log(`Qwen: adapter changes logits by ${changed.toExponential(2)} (relative); merged vs run-time LoRA: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-3);
    expect(err, 'the merge error is far below the adapter\'s effect').toBeLessThan(changed / 1000);

    // The directory merges directly too, to the same bytes as through the GGUF adapter.
    const fromDir = join(dir, 'qwen-merged-dir.gguf');
    await mergeLora(base, sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8'), fromDir, { threads: 2 });
    expect(readFileSync(fromDir).equals(readFileSync(merged))).toBe(true);

    // --scale: half the adapter at run time equals a merge at scale 0.5.
    const halfMerged = join(dir, 'qwen-merged-half.gguf');
    await mergeLora(base, lora, halfMerged, { scale: 0.5, threads: 2 });
    expect(relativeError(await logits(halfMerged, TOKENS), await logits(base, TOKENS, lora, 0.5))).toBeLessThan(1e-3);
    for (const f of [merged, fromDir, halfMerged, base]) rmSync(f);
  }, 300_000);

  test('MLX Llama-3-8B adapter on a Llama-3-8B-shaped base (blocks 30-31 filled): loads and changes the logits', async () => {
    const base = join(dir, 'llama3.gguf');
    const filled = (n: string) => !n.startsWith('blk.') || /^blk\.3[01]\.attn_/.test(n);
    writeBase(base, { ...LLAMA3_8B, type: 'F16', filled });
    const lora = join(dir, 'llama3-lora.gguf');
    await convertAdapter(sharedData('lora', 'mlx-discollama-llama3-8b'), lora, { base });
    const tokens = TOKENS.slice(0, 3);
    const plain = await logits(base, tokens);
    const applied = await logits(base, tokens, lora);
    const changed = relativeError(applied, plain);
    console.log(`Llama-3-8B: adapter changes logits by ${changed.toExponential(2)} (relative)`);
    expect(changed).toBeGreaterThan(1e-4);
    rmSync(base);
  }, 300_000);

  test('Llama (Q/K permuted) PEFT adapter on q,k,v,o,gate,up,down and the embeddings: run-time LoRA = merge-lora = the HF-space merge converted', async () => {
    const shape = { vocab: 32000, hidden: 256, ff: 96, layers: 2, heads: 8, kvHeads: 4 };
    const config = {
      architectures: ['LlamaForCausalLM'], hidden_size: shape.hidden, intermediate_size: shape.ff, num_hidden_layers: shape.layers, num_attention_heads: shape.heads,
      num_key_value_heads: shape.kvHeads, vocab_size: shape.vocab, rms_norm_eps: 1e-5, max_position_embeddings: 256, rope_theta: 10000, tie_word_embeddings: false,
    };
    const specs = llamaSpecs(shape).map((s) => ({ ...s, std: s.constant !== undefined ? undefined : s.name.includes('embed') ? 1 : 1 / Math.sqrt(s.shape[1] ?? 1) }));
    const hf = await writeHfModel('Llama-lora-base', config, specs, { dtype: 'F32', tokenizer: TOKENIZERS.llama2 });

    // A PEFT adapter, r = 4, alpha = 8, on every projection.
    const rank = 4;
    const alpha = 8;
    const rng = new Rng(99);
    const adapterDir = join(dir, 'llama-peft');
    mkdirSync(adapterDir);
    const tensors: { name: string; dtype: 'F32'; shape: number[]; data: Uint8Array }[] = [];
    const merged = new Map<string, Float32Array>();
    for (const [name, t] of hf.tensors) {
      const m = /^model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$/.exec(name);
      if (!m) continue;
      const [nOut, nIn] = t.shape as [number, number];
      const A = Float32Array.from({ length: rank * nIn }, () => rng.normal() * 0.3);
      const B = Float32Array.from({ length: nOut * rank }, () => rng.normal() * 0.3);
      const mod = `base_model.model.${name.replace(/\.weight$/, '')}`;
      tensors.push({ name: `${mod}.lora_A.weight`, dtype: 'F32', shape: [rank, nIn], data: new Uint8Array(A.buffer) });
      tensors.push({ name: `${mod}.lora_B.weight`, dtype: 'F32', shape: [nOut, rank], data: new Uint8Array(B.buffer) });
      // The HF-space merge, in float64: W + (alpha / r)·B·A on the checkpoint's own (unpermuted) rows.
      const w = Float32Array.from(t.values);
      for (let o = 0; o < nOut; o++) {
        for (let i = 0; i < nIn; i++) {
          let sum = 0;
          for (let k = 0; k < rank; k++) sum += B[o * rank + k]! * A[k * nIn + i]!;
          w[o * nIn + i] = t.values[o * nIn + i]! + (alpha / rank) * sum;
        }
      }
      merged.set(name, w);
    }
    {
      // An embedding LoRA (PEFT lora_embedding_A (r, vocab), lora_embedding_B (hidden, r)): the delta
      // is (B·A)ᵀ, and llama.cpp gathers token rows of lora_a, stored transposed.
      const t = hf.tensors.get('model.embed_tokens.weight')!;
      const [vocab, hidden] = t.shape as [number, number];
      const A = Float32Array.from({ length: rank * vocab }, () => rng.normal() * 0.3);
      const B = Float32Array.from({ length: hidden * rank }, () => rng.normal() * 0.3);
      tensors.push({ name: 'base_model.model.model.embed_tokens.lora_embedding_A', dtype: 'F32', shape: [rank, vocab], data: new Uint8Array(A.buffer) });
      tensors.push({ name: 'base_model.model.model.embed_tokens.lora_embedding_B', dtype: 'F32', shape: [hidden, rank], data: new Uint8Array(B.buffer) });
      const w = Float32Array.from(t.values);
      for (let v = 0; v < vocab; v++) {
        for (let h = 0; h < hidden; h++) {
          let sum = 0;
          for (let k = 0; k < rank; k++) sum += B[h * rank + k]! * A[k * vocab + v]!;
          w[v * hidden + h] = t.values[v * hidden + h]! + (alpha / rank) * sum;
        }
      }
      merged.set('model.embed_tokens.weight', w);
    }
    tensors.sort((x, y) => (x.name < y.name ? -1 : 1));
    await writeSafetensors(join(adapterDir, 'adapter_model.safetensors'), tensors);
    writeFileSync(join(adapterDir, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: rank, lora_alpha: alpha, base_model_name_or_path: 'meta-llama/Llama-2-7b-hf' }));
    const hfMerged = await writeHfModel(
      'Llama-lora-merged',
      config,
      specs.map((s) => ({ ...s })),
      { dtype: 'F32', tokenizer: TOKENIZERS.llama2 },
    );
    // Same seed → same base values; overwrite the adapted ones with the merged values.
    await writeSafetensors(
      join(hfMerged.dir, 'model.safetensors'),
      [...hfMerged.tensors.values()].map((t) => ({ name: t.name, dtype: 'F32' as const, shape: t.shape, data: new Uint8Array((merged.get(t.name) ?? t.values).buffer.slice(0)) })),
    );

    const base = join(dir, 'llama-base.gguf');
    const reference = join(dir, 'llama-hf-merged.gguf');
    await convertModel(hf.dir, base, { outType: 'f32', threads: 2 });
    await convertModel(hfMerged.dir, reference, { outType: 'f32', threads: 2 });
    const lora = join(dir, 'llama-lora.gguf');
    await convertAdapter(adapterDir, lora, { base });
    {
      using g = MappedGguf.open(lora);
      expect(g.tensor('token_embd.weight.lora_a')?.shape).toEqual([rank, shape.vocab]);
      expect(g.tensor('token_embd.weight.lora_b')?.shape).toEqual([rank, shape.hidden]);
    }
    // A config.json base (convert_lora_to_gguf.py's --base) gives the same file as the GGUF base.
    const fromConfig = join(dir, 'llama-lora-config.gguf');
    await convertAdapter(adapterDir, fromConfig, { base: hf.dir });
    expect(readFileSync(fromConfig).equals(readFileSync(lora))).toBe(true);
    const ours = join(dir, 'llama-merged.gguf');
    await mergeLora(base, lora, ours, { threads: 2 });

    const tokens = [1, 450, 4796, 3290, 29889];
    const plain = await logits(base, tokens);
    const applied = await logits(base, tokens, lora);
    const expected = await logits(reference, tokens);
    const oursLogits = await logits(ours, tokens);
    expect(relativeError(applied, plain), 'the adapter changes the logits').toBeGreaterThan(1e-2);
    const errRuntime = relativeError(applied, expected);
    const errMerged = relativeError(oursLogits, expected);
    console.log(`Llama: run-time LoRA vs HF-space merge ${errRuntime.toExponential(2)}, merge-lora vs HF-space merge ${errMerged.toExponential(2)}`);
    // f32 rounding only (~1e-6): a B without the Q/K row permutation would be off by the whole effect.
    expect(errRuntime).toBeLessThan(1e-5);
    expect(errMerged).toBeLessThan(1e-5);
    expect(relativeError(oursLogits, applied)).toBeLessThan(1e-5);
  }, 300_000);
});
