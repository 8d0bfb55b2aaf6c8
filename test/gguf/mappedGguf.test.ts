import { openSync, readSync, closeSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { nativeAvailable } from '../../lib/native.js';
import { haveGgufData, MODEL_FILES } from './gguf-data.js';

function readRange(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!haveGgufData || !nativeAvailable())('tensor data as zero-copy views of the mapped file', () => {
  test.each(MODEL_FILES)('%s: every tensor view holds the bytes at dataOffset + offset', (path) => {
    using gguf = MappedGguf.open(path);
    expect(gguf.header.tensors.length).toBeGreaterThan(0);
    for (const t of gguf.header.tensors) {
      const view = gguf.tensorData(t.name);
      expect(view.byteLength, t.name).toBe(t.byteLength);
      const expected = readRange(path, gguf.header.dataOffset + t.offset, t.byteLength);
      expect(Buffer.compare(Buffer.from(view.buffer, view.byteOffset, view.byteLength), expected), t.name).toBe(0);
    }
  });

  test('views of one tensor share memory, and close() detaches them', () => {
    const gguf = MappedGguf.open(MODEL_FILES[0]!);
    const name = gguf.header.tensors[0]!.name;
    const a = gguf.tensorData(name);
    const b = gguf.tensorData(gguf.tensor(name)!);
    const before = b[0];
    a[0] = (a[0]! + 1) & 0xff; // copy-on-write mapping: visible through the other view, never in the file
    expect(b[0]).toBe(a[0]);
    expect(readRange(MODEL_FILES[0]!, gguf.header.dataOffset, 1)[0]).toBe(before);
    gguf.close();
    expect(a.byteLength).toBe(0);
    expect(() => gguf.tensorData(name)).toThrow();
  });

  test('an unknown tensor name is a RangeError naming the file', () => {
    using gguf = MappedGguf.open(MODEL_FILES[0]!);
    expect(() => gguf.tensorData('no.such.tensor')).toThrow(RangeError);
  });
});
