import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { GgufError } from '../../lib/gguf/errors.js';
import { GgmlType, tensorByteLength } from '../../lib/gguf/ggmlTypes.js';
import { parseGgufHeader } from '../../lib/gguf/reader.js';
import { GgufValueType as T, type GgufMetadataEntry } from '../../lib/gguf/types.js';
import { GgufWriter, serializeGgufHeader, writeGguf, type GgufSink, type GgufTensorSpec } from '../../lib/gguf/writer.js';
import { RawGguf } from './rawGguf.js';

const root = mkdtempSync(join(tmpdir(), 'gguf-forge-writer-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => {
  const dir = join(root, `d${dirCount++}`);
  mkdtempSync(dir);
  return readdirSync(root).map((d) => join(root, d)).find((d) => d.startsWith(dir))!;
};

const metadata = (v1 = false): GgufMetadataEntry[] => [
  { key: 'general.architecture', type: T.STRING, value: 'llama' },
  { key: 'u8', type: T.UINT8, value: 255 },
  { key: 'i8', type: T.INT8, value: -128 },
  { key: 'u16', type: T.UINT16, value: 65535 },
  { key: 'i16', type: T.INT16, value: -1 },
  { key: 'u32', type: T.UINT32, value: 4294967295 },
  { key: 'i32', type: T.INT32, value: -2147483648 },
  { key: 'f32', type: T.FLOAT32, value: 0.1 },
  { key: 'bool', type: T.BOOL, value: false },
  { key: 'tokens', type: T.ARRAY, value: { itemType: T.STRING, items: ['<s>', 'é', ''] } },
  { key: 'scores', type: T.ARRAY, value: { itemType: T.FLOAT32, items: new Float32Array([1, -2.5]) } },
  { key: 'flags', type: T.ARRAY, value: { itemType: T.BOOL, items: [true, false] } },
  { key: 'nested', type: T.ARRAY, value: { itemType: T.ARRAY, items: [{ itemType: T.UINT16, items: new Uint16Array([7, 8]) }] } },
  ...(v1
    ? []
    : [
        { key: 'u64', type: T.UINT64, value: 2n ** 64n - 1n },
        { key: 'i64', type: T.INT64, value: -5n },
        { key: 'f64', type: T.FLOAT64, value: Math.PI },
        { key: 'ids', type: T.ARRAY, value: { itemType: T.INT64, items: new BigInt64Array([-1n, 2n]) } },
      ]),
];

/** The same header built by the independent test builder. */
function expectedBytes(le: boolean, version: 1 | 2 | 3, tensors: Array<[string, number[], number, number]>, alignment = 32): Uint8Array {
  const v1 = version === 1;
  const b = new RawGguf(le, v1).header(version, tensors.length, v1 ? 13 : 17);
  b.str('general.architecture').u32(T.STRING).str('llama');
  b.str('u8').u32(T.UINT8).u8(255);
  b.str('i8').u32(T.INT8).u8(-128);
  b.str('u16').u32(T.UINT16).u16(65535);
  b.str('i16').u32(T.INT16).u16(-1);
  b.str('u32').u32(T.UINT32).u32(4294967295);
  b.str('i32').u32(T.INT32).u32(-2147483648);
  b.str('f32').u32(T.FLOAT32).f32(0.1);
  b.str('bool').u32(T.BOOL).u8(0);
  b.str('tokens').u32(T.ARRAY).u32(T.STRING).len(3).str('<s>').str('é').str('');
  b.str('scores').u32(T.ARRAY).u32(T.FLOAT32).len(2).f32(1).f32(-2.5);
  b.str('flags').u32(T.ARRAY).u32(T.BOOL).len(2).u8(1).u8(0);
  b.str('nested').u32(T.ARRAY).u32(T.ARRAY).len(1).u32(T.UINT16).len(2).u16(7).u16(8);
  if (!v1) {
    b.str('u64').u32(T.UINT64).u64(2n ** 64n - 1n);
    b.str('i64').u32(T.INT64).u64(-5n);
    b.str('f64').u32(T.FLOAT64).f64(Math.PI);
    b.str('ids').u32(T.ARRAY).u32(T.INT64).len(2).u64(-1n).u64(2n);
  }
  for (const t of tensors) b.tensor(...t);
  return b.padTo(alignment).bytes();
}

describe('serializeGgufHeader', () => {
  test.each([
    [true, 3],
    [false, 3],
    [true, 2],
    [true, 1],
    [false, 1],
  ] as const)('littleEndian=%s v%s: bytes equal an independently built header and read back to the same values', (le, version) => {
    const tensors: GgufTensorSpec[] = [
      { name: 'tok_embd.weight', type: GgmlType.Q8_0, shape: [64, 3] },
      { name: 'norm.weight', type: GgmlType.F32, shape: [5] },
    ];
    const out = serializeGgufHeader(metadata(version === 1), tensors, { littleEndian: le, version });
    const expected = expectedBytes(le, version, [
      ['tok_embd.weight', [64, 3], GgmlType.Q8_0, 0], // 2 blocks × 34 B × 3 rows = 204 → padded 224
      ['norm.weight', [5], GgmlType.F32, 224],
    ]);
    expect(Buffer.from(out.bytes).equals(Buffer.from(expected))).toBe(true);
    expect(out.dataOffset).toBe(expected.length);
    expect(out.totalSize).toBe(expected.length + 224 + 32);
    const h = parseGgufHeader(out.bytes, { fileSize: out.totalSize });
    expect(h.littleEndian).toBe(le);
    expect(h.version).toBe(version);
    expect(h.metadata).toEqual(metadata(version === 1).map((m) => (m.key === 'f32' ? { ...m, value: Math.fround(0.1) } : m)));
    expect(h.tensors).toEqual(out.tensors);
  });

  test('the metadata section is padded to the alignment even without tensors (gguf_write_out pads unconditionally)', () => {
    const out = serializeGgufHeader([{ key: 'a', type: T.UINT8, value: 1 }], []);
    // 24 (magic, version, counts) + 9 (key) + 4 (type) + 1 (value) = 38 → 64
    expect(out.bytes.length).toBe(64);
    expect(out.bytes.subarray(38).every((b) => b === 0)).toBe(true);
    expect(out.dataOffset).toBe(64);
    expect(out.totalSize).toBe(64);
  });

  test('n_dims: llama.cpp drops trailing 1-dims (min 1); asGiven keeps shape.length', () => {
    const shapes = [[4096, 1], [1, 1], [4, 1, 3], [0], [32, 1, 1, 1], [], [7, 0]];
    const ggml = serializeGgufHeader([], shapes.map((shape, i) => ({ name: `t${i}`, type: GgmlType.F32, shape })));
    expect(ggml.tensors.map((t) => t.shape)).toEqual([[4096], [1], [4, 1, 3], [0], [32], [1], [7]]);
    const asGiven = serializeGgufHeader([], shapes.map((shape, i) => ({ name: `t${i}`, type: GgmlType.F32, shape })), { nDims: 'asGiven' });
    expect(asGiven.tensors.map((t) => t.shape)).toEqual(shapes);
    expect(parseGgufHeader(asGiven.bytes).tensors.map((t) => t.shape)).toEqual(shapes);
  });

  test('offsets are the running sum of sizes padded to the alignment; general.alignment decides it', () => {
    const tensors = [
      { name: 'a', type: GgmlType.F16, shape: [3] },
      { name: 'b', type: GgmlType.Q4_K, shape: [256, 2] },
      { name: 'c', type: GgmlType.F32, shape: [1] },
    ];
    const out = serializeGgufHeader([{ key: 'general.alignment', type: T.UINT32, value: 64 }], tensors);
    expect(out.tensors.map((t) => [t.offset, t.byteLength])).toEqual([
      [0, 6],
      [64, 288],
      [384, 4],
    ]);
    expect(out.dataOffset % 64).toBe(0);
    expect(out.totalSize).toBe(out.dataOffset + 448);
    expect(serializeGgufHeader([], tensors, { alignment: 128 }).tensors[2]!.offset).toBe(512);
  });

  test('invalid input is refused with TypeError/RangeError naming what was expected', () => {
    const bad: Array<[GgufMetadataEntry[], GgufTensorSpec[], object, RegExp]> = [
      [[{ key: '', type: T.UINT8, value: 1 }], [], {}, /Expected a non-empty key for metadata\[0\]\.key but received "" of type string/],
      [[{ key: 'a', type: T.UINT8, value: 1 }, { key: 'a', type: T.UINT8, value: 2 }], [], {}, /Expected a key not used before/],
      [[{ key: 'a', type: T.UINT8, value: 256 }], [], {}, /Expected an integer in \[0, 255\] \(UINT8\) for metadata "a" but received 256 of type number/],
      [[{ key: 'a', type: T.UINT64, value: 1.5 }], [], {}, /Expected a bigint/],
      [[{ key: 'a', type: T.STRING, value: 3 }], [], {}, /Expected a string for metadata "a" but received 3 of type number/],
      [[{ key: 'a', type: T.ARRAY, value: { itemType: T.UINT32, items: new Int32Array(1) } }], [], {}, /Expected a Uint32Array/],
      [[{ key: 'a', type: 13 as T, value: 1 }], [], {}, /Expected a value type in 0\.\.12/],
      [[{ key: 'a', type: T.UINT64, value: 1n }], [], { version: 1 }, /Expected a value type in 0\.\.9/],
      [[{ key: 'general.alignment', type: T.UINT64, value: 32n }], [], {}, /Expected type UINT32/],
      [[{ key: 'general.alignment', type: T.UINT32, value: 48 }], [], {}, /Expected a power of two/],
      [[{ key: 'general.alignment', type: T.UINT32, value: 64 }], [], { alignment: 32 }, /alignment given in metadata/],
      [[], [{ name: 'x'.repeat(64), type: 0, shape: [1] }], {}, /at most 63 UTF-8 bytes/],
      [[], [{ name: 'a', type: 0, shape: [1] }, { name: 'a', type: 0, shape: [1] }], {}, /tensor name not used before/],
      [[], [{ name: 'a', type: 4, shape: [32] }], {}, /known, not removed ggml type/],
      [[], [{ name: 'a', type: GgmlType.Q4_0, shape: [33] }], {}, /multiple of 32/],
      [[], [{ name: 'a', type: 0, shape: [1, 1, 1, 1, 1] }], {}, /at most 4 dimensions/],
      [[], [{ name: 'a', type: 0, shape: [-1] }], {}, /non-negative safe integers/],
    ];
    for (const [m, t, o, message] of bad) expect(() => serializeGgufHeader(m, t, o)).toThrow(message);
  });

  test('tensorByteLength follows ggml_nbytes', () => {
    expect(tensorByteLength(GgmlType.Q4_K, [512, 3])).toBe(2 * 144 * 3);
    expect(tensorByteLength(GgmlType.BF16, [3, 5])).toBe(30);
    expect(() => tensorByteLength(GgmlType.Q8_0, [31])).toThrow(RangeError);
  });
});

function tensorData(specs: GgufTensorSpec[]): Uint8Array[] {
  let k = 1;
  return specs.map((s) => {
    const d = new Uint8Array(tensorByteLength(s.type, s.shape));
    for (let i = 0; i < d.length; i++) d[i] = (k++ * 31) & 0xff || 1;
    return d;
  });
}

const specs: GgufTensorSpec[] = [
  { name: 'a', type: GgmlType.F32, shape: [3] },
  { name: 'empty', type: GgmlType.F32, shape: [0, 4] },
  { name: 'b', type: GgmlType.Q8_0, shape: [32, 5] },
  { name: 'c', type: GgmlType.F16, shape: [7] },
];

/** The expected file: header, then each tensor's bytes padded with zeros to 32, the last one too. */
function expectedFile(data: Uint8Array[]): Uint8Array {
  const header = serializeGgufHeader([{ key: 'general.architecture', type: T.STRING, value: 'x' }], specs);
  const parts: number[] = [...header.bytes];
  for (const d of data) {
    parts.push(...d);
    while (parts.length % 32) parts.push(0);
  }
  expect(parts.length).toBe(header.totalSize);
  return Uint8Array.from(parts);
}

describe('GgufWriter', () => {
  const md: GgufMetadataEntry[] = [{ key: 'general.architecture', type: T.STRING, value: 'x' }];

  test.each([1, 5, 13, 64, 1 << 20])('chunks of %i bytes spanning tensor boundaries give the same file', async (chunkSize) => {
    const dir = freshDir();
    const data = tensorData(specs);
    const all = Uint8Array.from(data.flatMap((d) => [...d]));
    const path = join(dir, 'out.gguf');
    const writer = await GgufWriter.open(path, md, specs);
    expect(readdirSync(dir)).toEqual([expect.stringMatching(/^\.out\.gguf\.tmp-[0-9a-f]+$/)]);
    for (let i = 0; i < all.length; i += chunkSize) await writer.write(all.subarray(i, i + chunkSize));
    await writer.close();
    expect(readdirSync(dir)).toEqual(['out.gguf']);
    expect(Buffer.from(readFileSync(path)).equals(Buffer.from(expectedFile(data)))).toBe(true);
    const h = parseGgufHeader(readFileSync(path), { fileSize: writer.totalSize });
    expect(h.tensors).toEqual(writer.tensors);
  });

  test('writeGguf writes the same bytes', async () => {
    const dir = freshDir();
    const data = tensorData(specs);
    await writeGguf(join(dir, 'w.gguf'), md, specs.map((s, i) => ({ ...s, data: data[i]! })));
    expect(Buffer.from(readFileSync(join(dir, 'w.gguf'))).equals(Buffer.from(expectedFile(data)))).toBe(true);
    await expect(writeGguf(join(dir, 'x.gguf'), md, [{ ...specs[0]!, data: new Uint8Array(5) }])).rejects.toThrow(/Expected 12 bytes/);
    expect(readdirSync(dir)).toEqual(['w.gguf']);
  });

  test('close() with missing bytes throws ERR_GGUF_WRITE_INCOMPLETE and leaves nothing behind', async () => {
    const dir = freshDir();
    const writer = await GgufWriter.open(join(dir, 'out.gguf'), md, specs);
    await writer.write(new Uint8Array(12 + 40));
    const error = await writer.close().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GgufError);
    expect(error).toMatchObject({ code: 'ERR_GGUF_WRITE_INCOMPLETE' });
    expect((error as Error).message).toMatch(/tensor "b" got 40 of 170 bytes/);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('writing more than the tensors hold throws ERR_GGUF_WRITE_OVERFLOW', async () => {
    const dir = freshDir();
    const writer = await GgufWriter.open(join(dir, 'out.gguf'), md, [{ name: 'a', type: GgmlType.F32, shape: [2] }]);
    await expect(writer.write(new Uint8Array(9))).rejects.toMatchObject({ code: 'ERR_GGUF_WRITE_OVERFLOW' });
    await writer.write(new Uint8Array(8));
    await writer.close();
    expect(readdirSync(dir)).toEqual(['out.gguf']);
  });

  test('abort() removes the temp file; the writer is closed afterwards', async () => {
    const dir = freshDir();
    const writer = await GgufWriter.open(join(dir, 'out.gguf'), md, specs);
    await writer.write(new Uint8Array(20));
    await writer.abort();
    await writer.abort();
    expect(readdirSync(dir)).toEqual([]);
    await expect(writer.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'ERR_GGUF_WRITE_CLOSED' });
  });

  test('an aborted signal aborts the write and leaves nothing behind', async () => {
    const dir = freshDir();
    const controller = new AbortController();
    const writer = await GgufWriter.open(join(dir, 'out.gguf'), md, specs, { signal: controller.signal });
    await writer.write(new Uint8Array(4));
    controller.abort();
    await expect(writer.write(new Uint8Array(4))).rejects.toThrow(/abort/i);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a file that already exists is replaced only on a successful close', async () => {
    const dir = freshDir();
    const path = join(dir, 'out.gguf');
    const data = tensorData(specs);
    await writeGguf(path, md, specs.map((s, i) => ({ ...s, data: data[i]! })));
    const before = readFileSync(path);
    const writer = await GgufWriter.open(path, md, specs);
    await writer.write(new Uint8Array(3));
    await writer.close().catch(() => undefined);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  test('toSink: a custom sink (e.g. hashing into a store) gets the same bytes, coalesced', async () => {
    const received: Uint8Array[] = [];
    let closed = false;
    const sink: GgufSink = {
      async write(bytes) {
        received.push(bytes.slice());
      },
      async close() {
        closed = true;
      },
      async abort() {
        throw new Error('not expected');
      },
    };
    const data = tensorData(specs);
    const writer = await GgufWriter.toSink(sink, md, specs);
    for (const d of data) for (let i = 0; i < d.length; i++) await writer.write(d.subarray(i, i + 1));
    await writer.close();
    expect(closed).toBe(true);
    expect(received.length).toBe(1); // small file: one buffered write
    expect(Buffer.concat(received).equals(Buffer.from(expectedFile(data)))).toBe(true);
  });

  test('validation happens before any file is created', async () => {
    const dir = freshDir();
    await expect(GgufWriter.open(join(dir, 'out.gguf'), [{ key: '', type: T.UINT8, value: 1 }], [])).rejects.toThrow(RangeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});
