// gguf-forge's GGUF writer against llama.cpp's (gguf.cpp in libggml-base.so):
//  (a) what we write, llama.cpp reads back exactly as we meant it;
//  (b) for synthetic specs, llama.cpp's writer and ours produce the same bytes;
//  (c) re-writing the real files in ../shared/data/gguf: llama.cpp's writer (from its own reading)
//      and ours (from our reading) produce the same bytes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GgufHeader, GgufMetadataEntry } from '../../lib/gguf/types.js';
import { readGgufHeader } from '../../lib/gguf/reader.js';
import { writeGguf } from '../../lib/gguf/writer.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import {
  ggufReferenceAvailable,
  referenceReadGguf,
  referenceWriteGguf,
  specFromRefGguf,
  type RefWriteSpec,
} from '../reference/ggufReference.js';
import { diffHeaders, firstByteDifference, listGgufFiles, shortName } from './compareWithReference.js';
import { writerSpecs } from './writerSpecs.js';

const available = ggufReferenceAvailable();
if (!available) console.warn(`skipping llama.cpp GGUF writer comparison: ${referenceUnavailableReason()}`);

const dir = available ? mkdtempSync(join(tmpdir(), 'gguf-forge-ref-write-')) : '';
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function tmp(label: string): string {
  return join(dir, `${counter++}-${label.replace(/[^a-z0-9]+/gi, '_').slice(0, 40)}.gguf`);
}

/** Writes `spec` with gguf-forge's writer (default options: nDims 'ggml'). */
async function writeOurs(path: string, spec: RefWriteSpec): Promise<void> {
  await writeGguf(
    path,
    spec.metadata as GgufMetadataEntry[],
    spec.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape.map(Number), data: t.data })),
  );
}

/** The spec a header + the file's bytes describe (what our reader says the file holds). */
function specFromOurHeader(h: GgufHeader, bytes: Uint8Array): RefWriteSpec {
  return {
    metadata: h.metadata,
    tensors: h.tensors.map((t) => {
      const start = h.dataOffset + t.offset;
      return { name: t.name, type: t.type, shape: t.shape, data: bytes.subarray(start, start + t.byteLength) };
    }),
  };
}

function expectTensorData(file: string, bytes: Uint8Array, ref: NonNullable<ReturnType<typeof referenceReadGguf>>, spec: RefWriteSpec): void {
  spec.tensors.forEach((t, i) => {
    const r = ref.tensors[i];
    if (!r) throw new Error(`${shortName(file)}: tensor #${i} ${t.name} missing in llama.cpp's reading`);
    const start = ref.dataOffset + r.offset;
    const got = bytes.subarray(start, start + r.size);
    const diff = firstByteDifference(got, t.data);
    expect(diff, `${shortName(file)}: tensor ${t.name} data`).toBeNull();
  });
}

const specs = writerSpecs();
const realFiles = listGgufFiles().filter((f) => readFileSync(f).readUInt32LE(4) >= 2);

describe.skipIf(!available)('(a) llama.cpp reads what gguf-forge writes', () => {
  for (const { name, spec } of specs) {
    it(`spec: ${name}`, async () => {
      const file = tmp(name);
      await writeOurs(file, spec);
      const ref = referenceReadGguf(file);
      expect(ref, `${name}: llama.cpp rejected our file`).not.toBeNull();
      if (!ref) return;
      // What llama.cpp reads equals what llama.cpp reads from its own writing of the same spec.
      const refFile = tmp(`${name}-ref`);
      referenceWriteGguf(refFile, spec);
      const refOfRef = referenceReadGguf(refFile);
      if (!refOfRef) throw new Error(`${name}: llama.cpp rejected its own file`);
      expect(ref).toEqual(refOfRef);
      // And our reader agrees with it.
      expect(diffHeaders(file, await readGgufHeader(file), ref)).toEqual([]);
      expectTensorData(file, readFileSync(file), ref, spec);
    });
  }

  for (const src of realFiles) {
    it(`re-written real file: ${shortName(src)}`, async () => {
      const bytes = readFileSync(src);
      const original = await readGgufHeader(src);
      const spec = specFromOurHeader(original, bytes);
      const file = tmp(shortName(src));
      await writeOurs(file, spec);
      const ref = referenceReadGguf(file);
      expect(ref, `${shortName(src)}: llama.cpp rejected our re-write`).not.toBeNull();
      if (!ref) return;
      // The re-write holds what the original held (data offset aside: see (c) for the padding).
      const diffs = diffHeaders(src, original, ref).filter((d) => !/data offset/.test(d));
      expect(diffs).toEqual([]);
      expectTensorData(file, readFileSync(file), ref, spec);
    });
  }
});

describe.skipIf(!available)("(b) gguf-forge's writer equals llama.cpp's byte for byte", () => {
  for (const { name, spec } of specs) {
    it(`spec: ${name}`, async () => {
      const ours = tmp(name);
      const theirs = tmp(`${name}-ref`);
      await writeOurs(ours, spec);
      referenceWriteGguf(theirs, spec);
      expect(firstByteDifference(readFileSync(ours), readFileSync(theirs)), name).toBeNull();
    });
  }
});

describe.skipIf(!available)('(c) re-writing the real GGUF files: gguf-forge equals llama.cpp', () => {
  for (const src of realFiles) {
    it(shortName(src), async () => {
      const bytes = readFileSync(src);
      const ref = referenceReadGguf(src);
      expect(ref, `${shortName(src)}: llama.cpp rejected the file`).not.toBeNull();
      if (!ref) return;
      const theirs = tmp(`${shortName(src)}-ref`);
      referenceWriteGguf(theirs, specFromRefGguf(ref, (t) => bytes.subarray(ref.dataOffset + t.offset, ref.dataOffset + t.offset + t.size)));
      const ours = tmp(shortName(src));
      await writeOurs(ours, specFromOurHeader(await readGgufHeader(src), bytes));
      const theirBytes = readFileSync(theirs);
      expect(firstByteDifference(readFileSync(ours), theirBytes), shortName(src)).toBeNull();

      // How llama.cpp's re-write relates to the original: identical for the model files; for
      // vocab-only files (written by gguf-py, which does not pad when there are no tensors) llama.cpp
      // adds zero padding up to the alignment after the header and changes nothing else.
      expect(firstByteDifference(theirBytes.subarray(0, bytes.length), bytes), `${shortName(src)}: llama.cpp's re-write vs original`).toBeNull();
      const padded = Math.ceil(bytes.length / ref.alignment) * ref.alignment;
      if (ref.tensors.length > 0) expect(theirBytes.length).toBe(bytes.length);
      else expect(theirBytes.length).toBe(padded);
      expect(theirBytes.subarray(bytes.length).every((b) => b === 0)).toBe(true);
    });
  }
});

describe.skipIf(!available)('llama.cpp writer quirk that gguf-forge deliberately does not copy', () => {
  // A gguf_init_empty() context pads with 32 whatever general.alignment says (gguf_set_val_u32 does not
  // update ctx->alignment; llama-quantize builds its output that way). With another alignment and
  // more than one tensor the offsets disagree with the key, and llama.cpp's own reader rejects the
  // file. referenceWriteGguf's default ('honour') starts from a parsed context instead, which is what
  // (b) compares with; gguf-forge always pads with the alignment it writes in the metadata.
  for (const { name, spec } of specs.filter((s) => /general\.alignment = (64|8|256) with tensors/.test(s.name))) {
    it(`${name}: llama.cpp rejects what its gguf_init_empty() writer makes, and reads ours`, async () => {
      const theirs = tmp(`${name}-quirk`);
      referenceWriteGguf(theirs, spec, { alignment: 'asLlamaCpp' });
      expect(referenceReadGguf(theirs)).toBeNull();
      const ours = tmp(name);
      await writeOurs(ours, spec);
      expect(referenceReadGguf(ours)).not.toBeNull();
    });
  }
});
