import { open, readFile } from 'node:fs/promises';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { gguf as hfGguf } from '@huggingface/gguf';
import { parseGgufHeader, readGgufHeader, readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { GgufWriter, serializeGgufHeader } from '../../lib/gguf/writer.js';
import { fileTypeName, parameterCount } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType, type GgufArray, type GgufHeader } from '../../lib/gguf/types.js';
import { haveGgufData, LARGEST_VOCAB, MODEL_FILES, realGgufFiles } from './gguf-data.js';

const files = realGgufFiles();
if (!haveGgufData) console.warn('shared/data/gguf not found: real-file GGUF tests skipped');

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function reserialize(h: GgufHeader) {
  return serializeGgufHeader(
    h.metadata,
    h.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape })),
    { version: h.version as 1 | 2 | 3, littleEndian: h.littleEndian, nDims: 'asGiven' },
  );
}

describe.skipIf(!haveGgufData)('real GGUF files', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'gguf-forge-real-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test('the data folder holds the files the manifest lists (15 GGUF, one of them v1)', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
    expect(files.some((f) => f.endsWith('-v1.gguf'))).toBe(true);
  });

  test.each(files.map((f) => [basename(f), f]))('%s parses the same from a path (async, sync) and from bytes', async (_, path) => {
    const bytes = readFileSync(path);
    const fromBytes = parseGgufHeader(bytes, { fileSize: bytes.length });
    const fromAsync = await readGgufHeader(path);
    const fromSync = readGgufHeaderSync(path);
    expect(fromAsync).toEqual(fromBytes);
    expect(fromSync).toEqual(fromBytes);
    expect(fromBytes.fileSize).toBe(bytes.length);
    // vocab-only files end with the header; model files with the last padded tensor
    if (fromBytes.tensors.length === 0) expect(fromBytes.headerByteLength).toBe(bytes.length);
    else {
      const last = fromBytes.tensors.at(-1)!;
      const end = fromBytes.dataOffset + last.offset + Math.ceil(last.byteLength / fromBytes.alignment) * fromBytes.alignment;
      expect(end).toBe(bytes.length);
    }
  });

  test.each(files.map((f) => [basename(f), f]))('%s: read → serialize (asGiven, same version) reproduces the header bytes', (_, path) => {
    const bytes = readFileSync(path);
    const h = parseGgufHeader(bytes, { fileSize: bytes.length });
    const out = reserialize(h);
    const original = bytes.subarray(0, h.headerByteLength);
    const written = out.bytes.subarray(0, h.headerByteLength);
    const at = firstDifference(written, original);
    expect(at, `first differing byte at ${at}`).toBe(-1);
    // the rest of what we wrote is the zero padding to the data section
    expect(out.bytes.subarray(h.headerByteLength).every((b) => b === 0)).toBe(true);
    if (h.tensors.length > 0) {
      expect(out.dataOffset).toBe(h.dataOffset);
      expect(out.tensors).toEqual(h.tensors);
      expect(out.totalSize).toBe(bytes.length);
    }
  });

  test('values keep their types: vocab arrays are string[], token types Int32Array, scores Float32Array', () => {
    const h = readGgufHeaderSync(files.find((f) => f.endsWith('ggml-vocab-llama-spm.gguf'))!);
    const get = (key: string) => h.metadata.find((m) => m.key === key)!;
    const tokens = get('tokenizer.ggml.tokens').value as GgufArray;
    expect(tokens.itemType).toBe(GgufValueType.STRING);
    expect(tokens.items).toHaveLength(32000);
    expect((tokens.items as string[]).slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect((get('tokenizer.ggml.scores').value as GgufArray).items).toBeInstanceOf(Float32Array);
    expect((get('tokenizer.ggml.token_type').value as GgufArray).items).toBeInstanceOf(Int32Array);
    expect(get('general.architecture').value).toBe('llama');
  });

  test('metadata agrees with @huggingface/gguf on every file (keys, scalars, array lengths)', async () => {
    for (const path of files.filter((f) => !f.endsWith('-v1.gguf'))) {
      const ours = readGgufHeaderSync(path);
      const theirs = await hfGguf(path, { allowLocalFile: true });
      const hfKeys = Object.keys(theirs.metadata).filter((k) => !['version', 'tensor_count', 'kv_count'].includes(k));
      expect(ours.metadata.map((m) => m.key), path).toEqual(hfKeys);
      for (const m of ours.metadata) {
        const v = (theirs.metadata as Record<string, unknown>)[m.key];
        if (m.type === GgufValueType.ARRAY) expect((m.value as GgufArray).items.length, m.key).toBe((v as unknown[]).length);
        else if (m.type === GgufValueType.STRING || m.type === GgufValueType.BOOL) expect(m.value, m.key).toBe(v);
        else expect(Number(m.value), m.key).toBeCloseTo(Number(v), 5);
      }
      expect(ours.tensors.map((t) => [t.name, t.type, t.shape])).toEqual(theirs.tensorInfos.map((t) => [t.name, t.dtype, t.shape.map(Number)]));
    }
  });

  test('model files: parameter count and file type', () => {
    const stories = readGgufHeaderSync(MODEL_FILES[0]!);
    expect(parameterCount(stories)).toBe(stories.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0));
    expect(fileTypeName(stories)).toMatch(/^[A-Z0-9_]+( \(guessed\))?$/);
    const vocab = readGgufHeaderSync(LARGEST_VOCAB);
    expect(parameterCount(vocab)).toBe(0);
  });

  test.each(files.map((f) => [basename(f), f]))('%s: a full rewrite through GgufWriter equals the original byte for byte', async (_, path) => {
    const h = await readGgufHeader(path);
    const dest = join(tmp, basename(path));
    const writer = await GgufWriter.open(dest, h.metadata, h.tensors, {
      version: h.version as 1 | 2 | 3,
      nDims: 'asGiven',
      padWithoutTensors: h.fileSize > h.headerByteLength, // gguf-py leaves tensor-less files unpadded
    });
    expect(writer.tensors).toEqual(h.tensors);
    const source = await open(path, 'r');
    try {
      // odd-sized reads so chunks straddle tensor boundaries
      const chunk = new Uint8Array(7919);
      const dataBytes = h.tensors.reduce((s, t) => s + t.byteLength, 0);
      let copied = 0;
      for (const t of h.tensors) {
        let done = 0;
        while (done < t.byteLength) {
          const n = Math.min(chunk.length, t.byteLength - done);
          const { bytesRead } = await source.read(chunk, 0, n, h.dataOffset + t.offset + done);
          await writer.write(chunk.subarray(0, bytesRead));
          done += bytesRead;
          copied += bytesRead;
        }
      }
      expect(copied).toBe(dataBytes);
    } finally {
      await source.close();
    }
    await writer.close();
    const a = await readFile(dest);
    const b = await readFile(path);
    const at = firstDifference(a, b);
    expect(at, `first differing byte at ${at}`).toBe(-1);
  });

  test('parse time of the largest vocabulary, beside @huggingface/gguf', async () => {
    const bytes = readFileSync(LARGEST_VOCAB);
    const time = async (fn: () => unknown, runs: number) => {
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        await fn();
        best = Math.min(best, performance.now() - t);
      }
      return best;
    };
    const fromBytes = await time(() => parseGgufHeader(bytes, { fileSize: bytes.length }), 8);
    const fromPath = await time(() => readGgufHeader(LARGEST_VOCAB), 8);
    const hf = await time(() => hfGguf(LARGEST_VOCAB, { allowLocalFile: true }), 3);
    console.log(
      `${basename(LARGEST_VOCAB)} (${bytes.length} bytes): parseGgufHeader ${fromBytes.toFixed(1)} ms, readGgufHeader ${fromPath.toFixed(1)} ms; ` +
        `@huggingface/gguf ${hf.toFixed(1)} ms (${(hf / fromPath).toFixed(1)}× slower)`,
    );
    // The benchmark goal is ≥ 10×; the test only guards against a gross regression on a busy CI machine.
    expect(fromPath).toBeLessThan(hf);
  });
});
