import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadGgmlBase, referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { referenceReadGguf } from '../reference/ggufReference.js';
import { listGgufFiles } from '../gguf-reference/compareWithReference.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { runCli } from './cliRunner.js';

const GGUF_TYPE_NAMES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];

interface InspectJson {
  version: number;
  alignment: number;
  dataOffset: number;
  parameterCount: number;
  fileType: string | null;
  metadata: Array<{ key: string; type: string; itemType?: string; value: unknown }>;
  tensors: Array<{ name: string; type: string; shape: number[]; offset: number; bytes: number }>;
}

/** What a script reading the JSON sees for a reference value (64-bit beyond 2^53 as strings, floats as float32). */
function expectedJsonScalar(type: number, value: unknown): unknown {
  if (typeof value === 'bigint') return value > 2n ** 53n || value < -(2n ** 53n) ? value.toString() : Number(value);
  if (type === 6 && typeof value === 'number') return value; // compared through Math.fround below
  return value;
}

function sameJsonScalar(type: number, got: unknown, ref: unknown): boolean {
  if (type === 6 || type === 12) {
    if (typeof ref === 'number' && Number.isNaN(ref)) return got === 'NaN';
    if (ref === Infinity) return got === 'Infinity';
    if (ref === -Infinity) return got === '-Infinity';
    return typeof got === 'number' && (type === 6 ? Math.fround(got) === ref : got === ref);
  }
  return got === expectedJsonScalar(type, ref);
}

describe.skipIf(!sharedDataAvailable)('gguf-forge inspect', () => {
  const reference = loadGgmlBase();
  const files = listGgufFiles(sharedData('gguf'));

  it('finds the shared GGUF files', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.skipIf(!reference)('--json equals llama.cpp’s reader for every shared file it accepts', () => {
    if (!reference) console.warn(referenceUnavailableReason());
    let compared = 0;
    for (const file of files) {
      const ref = referenceReadGguf(file);
      if (!ref) continue;
      const cli = runCli(['inspect', file, '--json']);
      expect(cli.status, `${file}: ${cli.stderr}`).toBe(0);
      const json = JSON.parse(cli.stdout) as InspectJson;
      expect(Object.keys(json)).toEqual(['version', 'alignment', 'dataOffset', 'parameterCount', 'fileType', 'metadata', 'tensors']);
      expect(json.version, file).toBe(ref.version);
      expect(json.alignment, file).toBe(ref.alignment);
      expect(json.dataOffset, file).toBe(ref.dataOffset);
      expect(json.metadata.map((m) => m.key), file).toEqual(ref.metadata.map((m) => m.key));
      ref.metadata.forEach((m, i) => {
        const got = json.metadata[i]!;
        const where = `${file} ${m.key}`;
        expect(got.type, where).toBe(GGUF_TYPE_NAMES[m.type]);
        if (m.type === 9) {
          const itemType = m.itemType as number;
          const items = m.value as ArrayLike<unknown>;
          expect(got.itemType, where).toBe(GGUF_TYPE_NAMES[itemType]);
          const values = got.value as unknown[];
          expect(values.length, where).toBe(items.length);
          for (let j = 0; j < items.length; j++) {
            if (!sameJsonScalar(itemType, values[j], items[j])) expect.fail(`${where}[${j}]: json ${String(values[j])} llama.cpp ${String(items[j])}`);
          }
        } else if (!sameJsonScalar(m.type, got.value, m.value)) {
          expect.fail(`${where}: json ${String(got.value)} llama.cpp ${String(m.value)}`);
        }
      });
      expect(json.tensors.length, file).toBe(ref.tensors.length);
      let params = 0;
      ref.tensors.forEach((t, i) => {
        const got = json.tensors[i]!;
        expect(got.name, file).toBe(t.name);
        const padded = [...got.shape, 1, 1, 1, 1].slice(0, 4);
        expect(padded, `${file} ${t.name}`).toEqual(t.ne);
        expect(got.offset, `${file} ${t.name}`).toBe(t.offset);
        expect(got.bytes, `${file} ${t.name}`).toBe(t.size);
        params += t.ne.reduce((a, b) => a * b, 1);
      });
      expect(json.parameterCount, file).toBe(params);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('prints a readable listing with long arrays summarised', () => {
    const cli = runCli(['inspect', sharedData('gguf', 'models', 'stories260K.gguf')]);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^version\s+3$/m);
    expect(cli.stdout).toMatch(/tokenizer\.ggml\.tokens\s+ARRAY\s+\[512 × STRING\]/);
    expect(cli.stdout).toMatch(/… 506 more/);
    expect(cli.stdout).toMatch(/token_embd\.weight\s+F32\s+\[64, 512\]/);
  });

  it('reads v1 files, which llama.cpp no longer accepts', () => {
    const cli = runCli(['inspect', sharedData('gguf', 'legacy', 'ggml-vocab-llama.gguf-v1.gguf'), '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const json = JSON.parse(cli.stdout) as InspectJson;
    expect(json.version).toBe(1);
    expect(json.metadata.find((m) => m.key === 'tokenizer.ggml.tokens')?.itemType).toBe('STRING');
  });
});

describe('gguf-forge CLI errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a damaged file fails with exit 1 and names the code, file and offset', () => {
    const bad = join(dir, 'bad.gguf');
    writeFileSync(bad, Buffer.from('GGUF\x03\x00\x00\x00\x00\x00', 'latin1'));
    const cli = runCli(['inspect', bad]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toBe('');
    expect(cli.stderr).toContain('ERR_GGUF_TRUNCATED');
    expect(cli.stderr).toContain('bad.gguf');
  });

  it('usage mistakes exit 2', () => {
    expect(runCli(['inspect']).status).toBe(2);
    expect(runCli(['inspect', 'a', 'b']).status).toBe(2);
    expect(runCli(['inspect', '--bogus', 'x']).status).toBe(2);
    expect(runCli(['no-such-command']).status).toBe(2);
  });

  it('--help on every command exits 0', () => {
    for (const command of ['inspect', 'info']) {
      const cli = runCli([command, '--help']);
      expect(cli.status).toBe(0);
      expect(cli.stdout).toContain(`gguf-forge ${command}`);
    }
  });
});
