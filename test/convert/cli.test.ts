// `gguf-forge convert` (the command module; main.ts dispatches to it): --json prints one JSON
// document, usage mistakes are UsageErrors (exit 2 in main), failures propagate typed errors (exit 1).
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { convertCommand } from '../../lib/cli/convert.js';
import { UsageError } from '../../lib/cli/usage.js';
import { sharedDataAvailable } from '../sharedData.js';
import { llamaSpecs, scratch, TOKENIZERS, writeHfModel } from './hfFixtures.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    return { code: await convertCommand.run(argv), stdout };
  } finally {
    spy.mockRestore();
  }
}

describe.skipIf(!sharedDataAvailable)('gguf-forge convert', () => {
  test('--help names the output types and the supported architectures', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: gguf-forge convert HF_DIR OUT.gguf');
    expect(stdout).toContain('Q4_K_M');
    expect(stdout).toContain('MixtralForCausalLM');
  });

  test('converts with --outtype and --json: one JSON document on stdout', async () => {
    const m = await writeHfModel(
      'cli-model',
      { architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 4, vocab_size: 512 },
      llamaSpecs({ vocab: 512, hidden: 64, ff: 96, layers: 1, heads: 4, kvHeads: 4 }),
      { tokenizer: TOKENIZERS.llama2 },
    );
    const out = join(m.dir, 'out.gguf');
    const { code, stdout } = await run([m.dir, out, '--outtype', 'q8_0', '--json']);
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ architecture: 'llama', hfArchitecture: 'LlamaForCausalLM', outType: 'q8_0', fileType: 7, output: out });
    expect(json.metadata).toContain('tokenizer.ggml.tokens');
    expect(json.tensors.some((t: { type: string }) => t.type === 'Q8_0')).toBe(true);
    expect(existsSync(out)).toBe(true);
  });

  test('usage mistakes are UsageErrors; conversion failures keep their codes', async () => {
    await expect(run(['only-one'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['a', 'b', '--bogus'])).rejects.toBeInstanceOf(UsageError);
    await expect(run(['a', 'b', '--threads', 'x'])).rejects.toBeInstanceOf(UsageError);
    await expect(run([join(scratch, 'nowhere'), join(scratch, 'x.gguf')])).rejects.toMatchObject({ code: 'ERR_CONVERT_CONFIG' });
  });
});
