// create with ADAPTER: a PEFT folder is checked against the FROM model, converted to a GGUF LoRA and
// stored as the adapter layer; an adapter that does not fit the base is refused with nothing written.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { create } from '../../lib/create/create.js';
import { convertAdapter } from '../../lib/lora/index.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { QWEN25_05B, writeBase } from '../lora/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-create-adapter-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const peft = sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8');

describe.skipIf(!sharedDataAvailable)('create with ADAPTER', () => {
  test('a PEFT folder becomes the adapter layer, converted for the FROM model', async () => {
    const base = join(dir, 'qwen-base.gguf');
    writeBase(base, QWEN25_05B);
    const store = await openStore(join(dir, 'store'));
    const result = await create('qwen-tuned', { store, modelfile: `FROM ${base}\nADAPTER ${peft}\n` });
    const adapter = result.layers.find((l) => l.mediaType === MEDIA_TYPES.adapter)!;
    const expected = join(dir, 'expected-adapter.gguf');
    await convertAdapter(peft, expected, { base });
    expect(readFileSync(store.blobPath(adapter.digest)).equals(readFileSync(expected))).toBe(true);
    expect(result.layers.map((l) => l.mediaType)).toEqual([MEDIA_TYPES.model, MEDIA_TYPES.adapter]);
    expect((await store.verify()).ok).toBe(true);
  }, 120_000);

  test('an adapter that does not fit the base is refused before any blob is written', async () => {
    const base = join(dir, 'wide-base.gguf');
    writeBase(base, { ...QWEN25_05B, embd: 1024, heads: 16 });
    const storeDir = join(dir, 'store-refused');
    const store = await openStore(storeDir);
    await expect(create('bad', { store, modelfile: `FROM ${base}\nADAPTER ${peft}\n` })).rejects.toMatchObject({
      code: 'ERR_CREATE_ADAPTER',
      message: expect.stringMatching(/attn_q\.weight.*896.*1024/s),
    });
    const blobs = join(storeDir, 'blobs');
    expect(existsSync(blobs) ? readdirSync(blobs) : []).toEqual([]);
  }, 120_000);
});
