// A mismatched adapter and base are refused with the documented error before anything is written:
// wrong architecture, wrong hidden size, a target tensor the base lacks; and adapter configs a
// GGUF LoRA cannot express are refused or folded exactly.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { checkAdapterAgainstBase, convertAdapter, LoraError, mergeLora } from '../../lib/lora/index.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { QWEN25_05B, writeBase } from './fixtures.js';

const PEFT = sharedDataAvailable ? sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8') : '';
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-lora-check-'));
const out = join(dir, 'out');
const bases = {
  qwen: join(dir, 'qwen.gguf'),
  wide: join(dir, 'qwen-1024.gguf'),
  short: join(dir, 'qwen-20-blocks.gguf'),
  llama: join(dir, 'llama-896.gguf'),
};
let adapterGguf = '';

beforeAll(async () => {
  if (!sharedDataAvailable) return;
  mkdirSync(out);
  writeBase(bases.qwen, { ...QWEN25_05B, filled: () => false });
  writeBase(bases.wide, { ...QWEN25_05B, embd: 1024, heads: 16, filled: () => false });
  writeBase(bases.short, { ...QWEN25_05B, layers: 20, filled: () => false });
  writeBase(bases.llama, { ...QWEN25_05B, arch: 'llama', filled: () => false });
  adapterGguf = join(dir, 'adapter.gguf');
  await convertAdapter(PEFT, adapterGguf, { base: bases.qwen });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(run: () => Promise<unknown> | unknown): Promise<LoraError> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LoraError);
  // Nothing written: no output, no temp file.
  expect(readdirSync(out)).toEqual([]);
  return error as LoraError;
}

/** A PEFT directory with the real weights and an edited config. */
function peftWith(name: string, edit: (config: Record<string, unknown>) => void): string {
  const d = join(dir, name);
  mkdirSync(d);
  symlinkSync(join(PEFT, 'adapter_model.safetensors'), join(d, 'adapter_model.safetensors'));
  const config: Record<string, unknown> = { peft_type: 'LORA', r: 8, lora_alpha: 16, base_model_name_or_path: 'Qwen/Qwen2.5-0.5B-Instruct', target_modules: ['q_proj', 'v_proj'] };
  edit(config);
  writeFileSync(join(d, 'adapter_config.json'), JSON.stringify(config));
  return d;
}

describe.skipIf(!sharedDataAvailable)('adapter vs base mismatches', () => {
  test('wrong hidden size: ERR_LORA_SHAPE names the first tensor and both shapes (directory and GGUF adapter, convert and merge)', async () => {
    for (const run of [
      () => convertAdapter(PEFT, join(out, 'a.gguf'), { base: bases.wide }),
      () => checkAdapterAgainstBase(adapterGguf, bases.wide),
      () => mergeLora(bases.wide, adapterGguf, join(out, 'm.gguf')),
      () => mergeLora(bases.wide, PEFT, join(out, 'm.gguf')),
    ]) {
      const e = await refused(run);
      expect(e.code).toBe('ERR_LORA_SHAPE');
      expect(e.tensor).toBe('blk.0.attn_q.weight');
      expect(e.adapterShape).toEqual([896, 896]);
      expect(e.baseShape).toEqual([1024, 1024]);
      expect(e.message).toContain('[896, 896]');
      expect(e.message).toContain('[1024, 1024]');
    }
  });

  test('wrong architecture: a qwen2 GGUF adapter on a llama base, and a directory whose config names Qwen', async () => {
    let e = await refused(() => checkAdapterAgainstBase(adapterGguf, bases.llama));
    expect(e.code).toBe('ERR_LORA_ARCH');
    expect(e.message).toMatch(/qwen2.*llama/);
    e = await refused(() => mergeLora(bases.llama, adapterGguf, join(out, 'm.gguf')));
    expect(e.code).toBe('ERR_LORA_ARCH');
    e = await refused(() => convertAdapter(PEFT, join(out, 'a.gguf'), { base: bases.llama }));
    expect(e.code).toBe('ERR_LORA_ARCH');
    expect(e.message).toContain('Qwen/Qwen2.5-0.5B-Instruct');
  });

  test('missing target tensor: blocks the base does not have give ERR_LORA_MISSING_TENSOR naming the first one', async () => {
    let e = await refused(() => convertAdapter(PEFT, join(out, 'a.gguf'), { base: bases.short }));
    expect(e.code).toBe('ERR_LORA_MISSING_TENSOR');
    expect(e.tensor).toBe('blk.20.attn_q.weight');
    e = await refused(() => checkAdapterAgainstBase(adapterGguf, bases.short));
    expect(e.code).toBe('ERR_LORA_MISSING_TENSOR');
    expect(e.tensor).toBe('blk.20.attn_q.weight');
  });

  test('a directory needs a base; a base must be a model; a non-adapter is named as such', async () => {
    expect((await refused(() => convertAdapter(PEFT, join(out, 'a.gguf')))).code).toBe('ERR_LORA_BASE_REQUIRED');
    expect((await refused(() => convertAdapter(PEFT, join(out, 'a.gguf'), { base: adapterGguf }))).code).toBe('ERR_LORA_BASE');
    expect((await refused(() => convertAdapter(out, join(out, 'a.gguf'), { base: bases.qwen }))).code).toBe('ERR_LORA_NOT_ADAPTER');
    expect((await refused(() => mergeLora(bases.qwen, bases.qwen, join(out, 'm.gguf')))).code).toBe('ERR_LORA_NOT_ADAPTER');
  });

  test('the check passes on the matching base and lists every adapted tensor', () => {
    const check = checkAdapterAgainstBase(PEFT, bases.qwen);
    expect(check.architecture).toBe('qwen2');
    expect(check.alpha).toBe(16);
    expect(check.tensors).toHaveLength(48);
    expect(check.tensors[0]).toEqual({ name: 'blk.0.attn_q.weight', rank: 8, shape: [896, 896] });
    expect(checkAdapterAgainstBase(adapterGguf, bases.qwen).tensors).toEqual(check.tensors);
  });
});

describe.skipIf(!sharedDataAvailable)('adapter configs', () => {
  test('a float lora_alpha (which Ollama cannot parse) is written as is', async () => {
    const d = peftWith('float-alpha', (c) => (c.lora_alpha = 12.5));
    const file = join(dir, 'float-alpha.gguf');
    await convertAdapter(d, file, { base: bases.qwen });
    using g = MappedGguf.open(file);
    expect(g.header.metadata.find((m) => m.key === 'adapter.lora.alpha')?.value).toBe(12.5);
  });

  test('rsLoRA (alpha / sqrt(r)) becomes alpha·sqrt(r) so that llama.cpp\'s alpha / r scales the same', async () => {
    const d = peftWith('rslora', (c) => (c.use_rslora = true));
    const file = join(dir, 'rslora.gguf');
    await convertAdapter(d, file, { base: bases.qwen });
    using g = MappedGguf.open(file);
    expect(g.header.metadata.find((m) => m.key === 'adapter.lora.alpha')?.value).toBe(Math.fround(16 * Math.sqrt(8)));
  });

  test('alpha_pattern: the modules with another alpha get the ratio folded into lora_b', async () => {
    const d = peftWith('alpha-pattern', (c) => (c.alpha_pattern = { v_proj: 32 }));
    const plain = join(dir, 'plain.gguf');
    const folded = join(dir, 'alpha-pattern.gguf');
    await convertAdapter(PEFT, plain, { base: bases.qwen });
    await convertAdapter(d, folded, { base: bases.qwen });
    using p = MappedGguf.open(plain);
    using f = MappedGguf.open(folded);
    const floats = (g: MappedGguf, n: string) => new Float32Array(g.tensorData(n).slice().buffer);
    expect(floats(f, 'blk.3.attn_q.weight.lora_b')).toEqual(floats(p, 'blk.3.attn_q.weight.lora_b'));
    expect(floats(f, 'blk.3.attn_v.weight.lora_a')).toEqual(floats(p, 'blk.3.attn_v.weight.lora_a'));
    const pb = floats(p, 'blk.3.attn_v.weight.lora_b');
    expect(floats(f, 'blk.3.attn_v.weight.lora_b')).toEqual(pb.map((x) => Math.fround(x * 2)));
  });

  test('DoRA and pickled adapters are refused with ERR_LORA_UNSUPPORTED', async () => {
    const d = peftWith('dora', (c) => (c.use_dora = true));
    expect((await refused(() => convertAdapter(d, join(out, 'a.gguf'), { base: bases.qwen }))).code).toBe('ERR_LORA_UNSUPPORTED');
    const pickle = join(dir, 'pickle');
    mkdirSync(pickle);
    writeFileSync(join(pickle, 'adapter_config.json'), '{"peft_type":"LORA","lora_alpha":16}');
    writeFileSync(join(pickle, 'adapter_model.bin'), 'not read');
    expect((await refused(() => convertAdapter(pickle, join(out, 'a.gguf'), { base: bases.qwen }))).code).toBe('ERR_LORA_UNSUPPORTED');
    expect(existsSync(join(out, 'a.gguf'))).toBe(false);
  });
});
