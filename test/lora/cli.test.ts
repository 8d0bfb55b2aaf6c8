// `gguf-forge convert ADAPTER_DIR OUT.gguf --base BASE` and `gguf-forge merge-lora`, run through
// their command modules (main.ts wires them): exit codes, output files, errors.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { convertCommand } from '../../lib/cli/convert.js';
import { mergeLoraCommand } from '../../lib/cli/merge-lora.js';
import { UsageError } from '../../lib/cli/usage.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { QWEN25_05B, writeBase } from './fixtures.js';

const PEFT = sharedDataAvailable ? sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8') : '';
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-lora-cli-'));
const base = join(dir, 'base.gguf');

beforeAll(() => {
  // The adapter's attention shapes, a tiny FFN and vocabulary, F16: merged and quantized in a few seconds.
  if (sharedDataAvailable) writeBase(base, { ...QWEN25_05B, layers: 24, ff: 32, vocab: 320, type: 'F16' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(command: typeof mergeLoraCommand, argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    return { code: await command.run(argv), stdout };
  } finally {
    spy.mockRestore();
  }
}

describe.skipIf(!sharedDataAvailable)('CLI', () => {
  test('convert recognises a PEFT directory and writes the GGUF LoRA (--json)', async () => {
    const out = join(dir, 'adapter.gguf');
    const { code, stdout } = await run(convertCommand, [PEFT, out, '--base', base, '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout) as { format: string; architecture: string; alpha: number; tensors: unknown[] };
    expect(json).toMatchObject({ format: 'peft', architecture: 'qwen2', alpha: 16 });
    expect(json.tensors).toHaveLength(96);
    using g = MappedGguf.open(out);
    expect(g.header.metadata.find((m) => m.key === 'general.type')?.value).toBe('adapter');
  });

  test('convert of an adapter directory without --base fails with ERR_LORA_BASE_REQUIRED and writes nothing', async () => {
    const out = join(dir, 'nobase.gguf');
    await expect(run(convertCommand, [PEFT, out])).rejects.toMatchObject({ code: 'ERR_LORA_BASE_REQUIRED' });
    expect(existsSync(out)).toBe(false);
  });

  test('merge-lora BASE ADAPTER OUT --scale --outtype writes the quantized merged model', async () => {
    const out = join(dir, 'merged-q8.gguf');
    const { code, stdout } = await run(mergeLoraCommand, [base, join(dir, 'adapter.gguf'), out, '--scale', '0.5', '--outtype', 'q8_0']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/48 tensors merged \(alpha 16, scale 0\.5\), Q8_0/);
    using g = MappedGguf.open(out);
    expect(g.header.metadata.find((m) => m.key === 'general.file_type')?.value).toBe(7);
    expect(g.tensor('blk.0.attn_q.weight')?.type).toBe(8); // Q8_0
  });

  test('merge-lora usage errors', async () => {
    await expect(run(mergeLoraCommand, [base, PEFT])).rejects.toBeInstanceOf(UsageError);
    await expect(run(mergeLoraCommand, [base, PEFT, join(dir, 'x.gguf'), '--scale', 'half'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(mergeLoraCommand, [base, PEFT, join(dir, 'x.gguf'), '--outtype', 'q9'])).rejects.toMatchObject({ code: 'ERR_LORA_OUTTYPE' });
    expect(existsSync(join(dir, 'x.gguf'))).toBe(false);
    const help = await run(mergeLoraCommand, ['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: gguf-forge merge-lora');
  });
});
