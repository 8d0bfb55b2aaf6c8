// quantizeModel's contract beyond the bytes: what it refuses and how, that an abort or failure
// leaves nothing at the destination, progress, the type plan it reports, and the CLI command.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { readGgufSync } from '../../lib/gguf/ggufInfo.js';
import { ImatrixError, readImatrix } from '../../lib/quantize/imatrix.js';
import { quantizeModel, type QuantizeModelProgress } from '../../lib/quantize/quantizeModel.js';
import { runCli } from '../cli/cliRunner.js';
import { SYNTHETIC_MODELS, modelPath, writeGgufImatrix } from './modelFixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-qm-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dense = SYNTHETIC_MODELS[0]!;

describe('quantizeModel', () => {
  test('reports progress per tensor and the per-tensor plan', async () => {
    const input = await modelPath(dense);
    const events: QuantizeModelProgress[] = [];
    const out = join(dir, 'progress.gguf');
    const result = await quantizeModel(input, out, 'q4_k', { onProgress: (p) => events.push(p) });
    expect(result.fileType).toBe('Q4_K_M');
    const info = readGgufSync(out);
    expect(result.outputBytes).toBe(info.fileSize);
    expect(events.length).toBe(info.tensors.length + 1);
    expect(events.at(-1)).toMatchObject({ bytesWritten: events.at(-1)!.bytesTotal });
    expect(events.map((e) => e.name).slice(0, -1)).toEqual(info.tensors.map((t) => t.name));
    // use_more_bits(i, 8) = {0, 3, 6, 7}: attn_v there is Q6_K, elsewhere Q4_K.
    const attnV = result.tensors.filter((t) => t.name.endsWith('attn_v.weight')).map((t) => t.type);
    expect(attnV).toEqual([14, 12, 12, 14, 12, 12, 14, 14]);
    expect(result.tensors.find((t) => t.name === 'output.weight')?.type).toBe(GgmlType.Q6_K);
    expect(info.metadata.slice(-2).map((m) => [m.key, m.value])).toEqual([
      ['general.quantization_version', 2],
      ['general.file_type', 15],
    ]);
  });

  test('an abort mid-run rejects with the reason and leaves no file, not even a temp file', async () => {
    const input = await modelPath(dense);
    const sub = mkdtempSync(join(dir, 'abort-'));
    const out = join(sub, 'aborted.gguf');
    const controller = new AbortController();
    const reason = new Error('stop here');
    const run = quantizeModel(input, out, 'Q6_K', {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.tensor === 10) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    expect(readdirSync(sub)).toEqual([]);
  });

  test('an already-quantized input is refused unless allowRequantize', async () => {
    const input = await modelPath(dense);
    const q8 = join(dir, 'q8.gguf');
    await quantizeModel(input, q8, 'Q8_0');
    const out = join(dir, 'requant.gguf');
    await expect(quantizeModel(q8, out, 'Q4_K_M')).rejects.toMatchObject({ name: 'QuantizeModelError', code: 'ERR_QUANTIZE_REQUANTIZE' });
    expect(existsSync(out)).toBe(false);
    await quantizeModel(q8, out, 'Q4_K_M', { allowRequantize: true });
    expect(readGgufSync(out).metadata.find((m) => m.key === 'general.file_type')?.value).toBe(15);
  });

  test('bad arguments fail before anything is written', async () => {
    const input = await modelPath(dense);
    const out = join(dir, 'never.gguf');
    await expect(quantizeModel(input, out, 'Q9_9')).rejects.toThrow(/Unknown file type 'Q9_9'.*Q4_K_M/);
    await expect(quantizeModel(input, input, 'Q8_0')).rejects.toMatchObject({ code: 'ERR_QUANTIZE_SAME_FILE' });
    await expect(quantizeModel(input, out, 'Q8_0', { tensorTypes: ['attn_v'] })).rejects.toThrow(/REGEX=TYPE/);
    await expect(quantizeModel(input, out, 'Q8_0', { tensorTypes: ['attn_v=IQ2_XXS'] })).rejects.toThrow(RangeError);
    await expect(quantizeModel(input, out, 'Q8_0', { tensorTypes: ['(=Q8_0'] })).rejects.toThrow(/Invalid regular expression/);
    await expect(quantizeModel(join(dir, 'missing.gguf'), out, 'Q8_0')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(out)).toBe(false);
  });

  test('an imatrix that does not fit the model is refused, naming the tensor', async () => {
    const input = await modelPath(dense);
    const other = await modelPath(SYNTHETIC_MODELS[4]!); // 896 wide
    const file = await writeGgufImatrix(other, join(dir, 'other.imatrix.gguf'));
    await expect(quantizeModel(input, join(dir, 'x.gguf'), 'Q4_K_M', { imatrix: file })).rejects.toMatchObject({
      code: 'ERR_QUANTIZE_IMATRIX',
      message: expect.stringMatching(/imatrix size 896 is different from tensor size 256 for \S+\.weight/),
    });
  });

  test('hostile imatrix files give an ImatrixError with the offset', () => {
    const cases: [string, Buffer][] = [
      ['empty', Buffer.alloc(0)],
      ['negative count', Buffer.from([0xff, 0xff, 0xff, 0xff])],
      ['huge name', Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from([0xff, 0xff, 0xff, 0x7f])])],
      ['truncated values', Buffer.concat([Buffer.from([1, 0, 0, 0, 1, 0, 0, 0]), Buffer.from('a'), Buffer.from([1, 0, 0, 0, 0, 1, 0, 0])])],
    ];
    for (const [name, bytes] of cases) {
      const file = join(dir, `hostile-${name.replace(/ /g, '-')}.dat`);
      writeFileSync(file, bytes);
      expect(() => readImatrix(file), name).toThrow(ImatrixError);
    }
  });
});

describe('gguf-forge quantize', () => {
  test('writes the file and prints a summary; --json prints the plan', async () => {
    const input = await modelPath(dense);
    const out = join(dir, 'cli.gguf');
    const r = runCli(['quantize', input, out, 'Q5_K_M', '--threads', '2']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Q5_K_M, \d+ tensors, .* -> .* MiB/);
    const j = runCli(['quantize', input, out + '.json.gguf', 'q8_0', '--json', '--tensor-type', 'ffn_down=q6_k']);
    expect(j.status).toBe(0);
    const result = JSON.parse(j.stdout);
    expect(result.tensors.find((t: { name: string }) => t.name === 'blk.0.ffn_down.weight').type).toBe(GgmlType.Q6_K);
  });

  test('usage errors exit 2, failures exit 1 with the error code', async () => {
    expect(runCli(['quantize', 'a.gguf']).status).toBe(2);
    const input = await modelPath(dense);
    const r = runCli(['quantize', input, join(dir, 'y.gguf'), 'Q7_Z']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Unknown file type 'Q7_Z'/);
  });
});
