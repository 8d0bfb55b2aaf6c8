// gguf-forge's GGUF reader against llama.cpp's own (gguf_init_from_file in libggml-base.so) on every
// real GGUF file under ../shared/data/gguf: same version, alignment, data offset, keys in order,
// value types, values (arrays element by element, floats bitwise), tensor names, types, ne,
// offsets and sizes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseGgufHeader, readGgufHeader, readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { ggufReferenceAvailable, referenceReadGguf, referenceWriteGguf } from '../reference/ggufReference.js';
import { DATA_DIR, diffHeaders, listGgufFiles, shortName } from './compareWithReference.js';
import { writerSpecs } from './writerSpecs.js';

const available = ggufReferenceAvailable();
if (!available) console.warn(`skipping llama.cpp GGUF reader comparison: ${referenceUnavailableReason()}`);

const haveData = existsSync(DATA_DIR);
if (!haveData) console.warn(`skipping the real-file comparison: ${DATA_DIR} is missing`);
const files = listGgufFiles();

describe.skipIf(!available)("GGUF reader matches llama.cpp's gguf_init_from_file", () => {
  it.skipIf(!haveData)('has real GGUF files to compare', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of files) {
    const name = shortName(file);
    const bytes = readFileSync(file);
    const version = bytes.readUInt32LE(4);

    if (version === 1) {
      it(`${name}: llama.cpp rejects GGUF v1`, () => {
        expect(referenceReadGguf(file), `${name}: llama.cpp accepted a v1 file`).toBeNull();
      });
      continue;
    }

    it(`${name}: readGgufHeader equals llama.cpp`, async () => {
      const ref = referenceReadGguf(file);
      expect(ref, `${name}: llama.cpp rejected the file`).not.toBeNull();
      if (!ref) return;
      const ours = await readGgufHeader(file);
      expect(diffHeaders(file, ours, ref)).toEqual([]);
      expect(ours.fileSize, `${name}: fileSize`).toBe(bytes.length);
    });

    it(`${name}: readGgufHeaderSync and parseGgufHeader equal llama.cpp`, () => {
      const ref = referenceReadGguf(file);
      if (!ref) throw new Error(`${name}: llama.cpp rejected the file`);
      expect(diffHeaders(file, readGgufHeaderSync(file), ref)).toEqual([]);
      expect(diffHeaders(file, parseGgufHeader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)), ref)).toEqual([]);
    });
  }
});

describe.skipIf(!available)("GGUF reader matches llama.cpp on files llama.cpp's writer made from synthetic specs", () => {
  const dir = available ? mkdtempSync(join(tmpdir(), 'gguf-forge-ref-read-')) : '';
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  writerSpecs().forEach(({ name, spec }, i) => {
    it(name, async () => {
      const file = join(dir, `spec${i}.gguf`);
      referenceWriteGguf(file, spec);
      const ref = referenceReadGguf(file);
      expect(ref, `${name}: llama.cpp rejected its own file`).not.toBeNull();
      if (!ref) return;
      expect(diffHeaders(file, await readGgufHeader(file), ref)).toEqual([]);
    });
  });
});
