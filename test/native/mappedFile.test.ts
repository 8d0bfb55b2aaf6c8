// mapFile(): zero-copy views over a copy-on-write mapping, bounds checks, files over 4 GiB, and
// close() detaching every view before the memory goes away.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadNative, nativeBinaryPath } from '../../lib/native.js';

const native = loadNative();
const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-mmap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomFile(name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('mapFile', () => {
  const { path, bytes } = randomFile('random.bin', 1_048_576 + 4099);

  test('views read the same bytes as readFileSync at any offset', () => {
    const mapping = native.mapFile(path);
    expect(mapping.size).toBe(bytes.length);
    expect(mapping.closed).toBe(false);
    for (const [offset, length] of [[0, bytes.length], [0, 1], [1, 4096], [4095, 3], [65537, 100_001], [bytes.length - 7, 7], [bytes.length, 0]] as const) {
      const view = mapping.view(offset, length);
      expect(view).toBeInstanceOf(ArrayBuffer);
      expect(view.byteLength).toBe(length);
      expect(Buffer.from(view).equals(bytes.subarray(offset, offset + length)), `view(${offset}, ${length})`).toBe(true);
    }
    mapping.close();
  });

  test('views are zero-copy: overlapping views share memory', () => {
    const mapping = native.mapFile(path);
    const a = new Uint8Array(mapping.view(100, 200));
    const b = new Uint8Array(mapping.view(100, 200));
    const c = new Uint8Array(mapping.view(150, 10));
    a[50] = (a[50]! + 1) & 0xff;
    expect(b[50]).toBe(a[50]);
    expect(c[0]).toBe(a[50]);
    mapping.close();
  });

  test('writing into a view never reaches the file', () => {
    const mapping = native.mapFile(path);
    new Uint8Array(mapping.view(0, bytes.length)).fill(0xee);
    const other = native.mapFile(path);
    expect(Buffer.from(other.view(0, bytes.length)).equals(bytes)).toBe(true);
    mapping.close();
    other.close();
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test('ranges outside the file throw RangeError', () => {
    const mapping = native.mapFile(path);
    const size = mapping.size;
    for (const [offset, length] of [[size, 1], [0, size + 1], [size + 1, 0], [size - 1, 2], [-1, 1], [0, -1], [1.5, 1], [0, 2.5], [NaN, 1], [Infinity, 0], [2 ** 53, 1], [1, 2 ** 64]]) {
      expect(() => mapping.view(offset!, length!), `view(${offset}, ${length})`).toThrow(RangeError);
    }
    mapping.close();
  });

  test('close() detaches every outstanding view, then view() throws', () => {
    const mapping = native.mapFile(path);
    const views = [mapping.view(0, 16), mapping.view(8, 1000), mapping.view(bytes.length - 1, 1)];
    const typed = new Uint32Array(views[1]!, 0, 10);
    mapping.close();
    expect(mapping.closed).toBe(true);
    for (const view of views) expect(view.byteLength).toBe(0);
    expect(typed.length).toBe(0);
    expect(typed[0]).toBeUndefined();
    expect(() => mapping.view(0, 1)).toThrow(/closed/);
    expect(() => mapping.close()).not.toThrow();
  });

  test('a zero-length file maps', () => {
    const empty = join(dir, 'empty.bin');
    writeFileSync(empty, '');
    const mapping = native.mapFile(empty);
    expect(mapping.size).toBe(0);
    expect(mapping.view(0, 0).byteLength).toBe(0);
    expect(() => mapping.view(0, 1)).toThrow(RangeError);
    mapping.close();
    expect(mapping.closed).toBe(true);
  });

  test('errors carry the errno code, syscall and path', () => {
    const missing = join(dir, 'missing.bin');
    expect(() => native.mapFile(missing)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'open', path: missing }));
    expect(() => native.mapFile(missing)).toThrow(missing);
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    expect(() => native.mapFile(folder)).toThrow(expect.objectContaining({ code: 'EISDIR' }));
  });

  test('views keep the mapping alive after the mapping object is collected', () => {
    const script = `
      const a = require(${JSON.stringify(nativeBinaryPath())});
      let m = a.mapFile(${JSON.stringify(path)});
      const v = new Uint8Array(m.view(1000, 64));
      m = null;
      for (let i = 0; i < 5; i++) { globalThis.gc(); for (let j = 0; j < 1000; j++) new ArrayBuffer(1 << 16); }
      setTimeout(() => { globalThis.gc(); process.stdout.write(Buffer.from(v).toString('hex')); }, 50);`;
    const result = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe(bytes.subarray(1000, 1064).toString('hex'));
  });
});

describe('files over 4 GiB', () => {
  test('a sparse 5 GiB file is readable at offset 4.5 GiB', () => {
    const big = join(dir, 'sparse-5g.bin');
    const size = 5 * 2 ** 30;
    const offset = 4.5 * 2 ** 30 + 3;
    const marker = Buffer.from('gguf-forge marker past 4 GiB');
    writeFileSync(big, '');
    truncateSync(big, size);
    const fd = openSync(big, 'r+');
    try {
      writeSync(fd, marker, 0, marker.length, offset);
    } finally {
      closeSync(fd);
    }
    const mapping = native.mapFile(big);
    try {
      expect(mapping.size).toBe(size);
      expect(Buffer.from(mapping.view(offset, marker.length)).equals(marker)).toBe(true);
      expect(Buffer.from(mapping.view(size - 4, 4)).equals(Buffer.alloc(4))).toBe(true);
      expect(() => mapping.view(size - 4, 5)).toThrow(RangeError);
    } finally {
      mapping.close();
      rmSync(big);
    }
  });
});
