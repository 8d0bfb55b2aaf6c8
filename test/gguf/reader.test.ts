import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { GgufError } from '../../lib/gguf/errors.js';
import { FIRST_READ_BYTES, parseGgufHeader, readGgufHeader, readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType as T, type GgufArray } from '../../lib/gguf/types.js';
import { RawGguf } from './rawGguf.js';

const tmp = mkdtempSync(join(tmpdir(), 'gguf-forge-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function parseError(bytes: Uint8Array, fileSize = bytes.length): GgufError {
  try {
    parseGgufHeader(bytes, { fileSize });
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(GgufError);
    return e as GgufError;
  }
  throw new Error('expected the header to be rejected');
}

function expectError(bytes: Uint8Array, code: string, offset: number): GgufError {
  const e = parseError(bytes);
  expect({ code: e.code, offset: e.offset, message: e.message }).toMatchObject({ code, offset });
  return e;
}

/** A v2/v3/v1 header with one KV of every value type allowed in that version, and nested arrays. */
function everyValueType(b: RawGguf): RawGguf {
  const v1 = b.v1;
  b.header(v1 ? 1 : 3, 0, v1 ? 12 : 15);
  b.str('u8').u32(T.UINT8).u8(200);
  b.str('i8').u32(T.INT8).u8(-5);
  b.str('u16').u32(T.UINT16).u16(65000);
  b.str('i16').u32(T.INT16).u16(-300);
  b.str('u32').u32(T.UINT32).u32(4000000000);
  b.str('i32').u32(T.INT32).u32(-70000);
  b.str('f32').u32(T.FLOAT32).f32(1.5);
  b.str('bool').u32(T.BOOL).u8(1);
  b.str('str').u32(T.STRING).str('héllo ✓');
  b.str('arr.str').u32(T.ARRAY).u32(T.STRING).len(3).str('a').str('').str('日本');
  b.str('arr.i16').u32(T.ARRAY).u32(T.INT16).len(3).u16(1).u16(-2).u16(0x7fff);
  b.str('arr.nested').u32(T.ARRAY).u32(T.ARRAY).len(2);
  b.u32(T.UINT8).len(2).u8(1).u8(2);
  b.u32(T.BOOL).len(3).u8(0).u8(1).u8(7);
  if (!v1) {
    b.str('u64').u32(T.UINT64).u64(2n ** 64n - 1n);
    b.str('i64').u32(T.INT64).u64(-(2n ** 62n));
    b.str('f64').u32(T.FLOAT64).f64(-0.1);
  }
  return b;
}

function checkEveryValueType(bytes: Uint8Array, v1: boolean) {
  const h = parseGgufHeader(bytes, { fileSize: bytes.length });
  const get = (k: string) => h.metadata.find((m) => m.key === k)!;
  expect(get('u8')).toEqual({ key: 'u8', type: T.UINT8, value: 200 });
  expect(get('i8').value).toBe(-5);
  expect(get('u16').value).toBe(65000);
  expect(get('i16').value).toBe(-300);
  expect(get('u32').value).toBe(4000000000);
  expect(get('i32').value).toBe(-70000);
  expect(get('f32').value).toBe(1.5);
  expect(get('bool').value).toBe(true);
  expect(get('str').value).toBe('héllo ✓');
  expect(get('arr.str').value).toEqual({ itemType: T.STRING, items: ['a', '', '日本'] });
  expect(get('arr.i16').value).toEqual({ itemType: T.INT16, items: new Int16Array([1, -2, 0x7fff]) });
  expect(get('arr.nested').value).toEqual({
    itemType: T.ARRAY,
    items: [
      { itemType: T.UINT8, items: new Uint8Array([1, 2]) },
      { itemType: T.BOOL, items: [false, true, true] },
    ],
  });
  if (!v1) {
    expect(get('u64').value).toBe(2n ** 64n - 1n);
    expect(get('i64').value).toBe(-(2n ** 62n));
    expect(get('f64').value).toBe(-0.1);
  }
  expect(h.headerByteLength).toBe(bytes.length);
  expect(h.dataOffset).toBe(bytes.length); // no tensors: no padding (gguf_get_data_offset)
  return h;
}

describe('value types and versions', () => {
  test('v3 little-endian: every value type, arrays of strings, nested arrays', () => {
    const h = checkEveryValueType(everyValueType(new RawGguf()).bytes(), false);
    expect(h.littleEndian).toBe(true);
    expect(h.version).toBe(3);
  });

  test('v3 big-endian: every value byte-swapped, detected from the version as llama.cpp does', () => {
    const h = checkEveryValueType(everyValueType(new RawGguf(false)).bytes(), false);
    expect(h.littleEndian).toBe(false);
    expect(h.version).toBe(3);
  });

  test('v1: u32 counts, lengths and dims; types 0–9', () => {
    const h = checkEveryValueType(everyValueType(new RawGguf(true, true)).bytes(), true);
    expect(h.version).toBe(1);
  });

  test('v1 rejects the 64-bit value types that came with v2', () => {
    const b = new RawGguf(true, true).header(1, 0, 1).str('x').mark('t').u32(T.UINT64).u64(1);
    expectError(b.bytes(), 'ERR_GGUF_BAD_VALUE_TYPE', b.at('t'));
  });

  test('big-endian v3 with tensor infos, arrays and alignment', () => {
    for (const le of [true, false]) {
      const b = new RawGguf(le).header(3, 2, 2);
      b.str('general.alignment').u32(T.UINT32).u32(64);
      b.str('scores').u32(T.ARRAY).u32(T.FLOAT32).len(2).f32(0.25).f32(-2);
      b.tensor('a', [32, 2], GgmlType.Q8_0, 0); // 2 blocks of 34 bytes → 68, padded to 128
      b.tensor('b', [3], GgmlType.F32, 128);
      const headerEnd = b.length;
      b.padTo(64).zeros(128 + 64);
      const h = parseGgufHeader(b.bytes(), { fileSize: b.length });
      expect(h.littleEndian).toBe(le);
      expect(h.alignment).toBe(64);
      expect(h.headerByteLength).toBe(headerEnd);
      expect(h.dataOffset).toBe(Math.ceil(headerEnd / 64) * 64);
      expect(h.tensors).toEqual([
        { name: 'a', type: GgmlType.Q8_0, shape: [32, 2], offset: 0, byteLength: 68 },
        { name: 'b', type: GgmlType.F32, shape: [3], offset: 128, byteLength: 12 },
      ]);
      expect((h.metadata[1]!.value as GgufArray).items).toEqual(new Float32Array([0.25, -2]));
    }
  });

  test('n_dims is kept as stored: 0 dims, trailing 1s', () => {
    const b = new RawGguf().header(3, 2, 0).tensor('scalar', [], GgmlType.F32, 0).tensor('col', [4, 1, 1], GgmlType.F32, 32);
    b.padTo(32).zeros(64);
    const h = parseGgufHeader(b.bytes(), { fileSize: b.length });
    expect(h.tensors.map((t) => [t.shape, t.byteLength])).toEqual([
      [[], 4],
      [[4, 1, 1], 16],
    ]);
  });

  test('arrays nested 8 deep parse; 9 deep fail with ERR_GGUF_NESTING at the 9th array', () => {
    for (const depth of [8, 9]) {
      const b = new RawGguf().header(3, 0, 1).str('deep').u32(T.ARRAY);
      for (let d = 1; d < depth; d++) b.mark(`a${d}`).u32(T.ARRAY).len(1);
      b.mark(`a${depth}`).u32(T.UINT8).len(1).u8(7);
      if (depth === 8) {
        let v = parseGgufHeader(b.bytes()).metadata[0]!.value as GgufArray;
        for (let d = 1; d < 8; d++) v = v.items[0] as GgufArray;
        expect(v.items).toEqual(new Uint8Array([7]));
      } else expectError(b.bytes(), 'ERR_GGUF_NESTING', b.at('a9'));
    }
  });

  test('BOOL bytes other than 0/1 read as true (llama.cpp accepts any nonzero)', () => {
    const b = new RawGguf().header(3, 0, 1).str('b').u32(T.BOOL).u8(0x80);
    expect(parseGgufHeader(b.bytes()).metadata[0]!.value).toBe(true);
  });

  test('invalid UTF-8 in strings decodes with replacement characters, never throws', () => {
    const b = new RawGguf().header(3, 0, 1).str('s').u32(T.ARRAY).u32(T.STRING).len(2).str(Uint8Array.of(0xff, 0x41)).str(Uint8Array.of(0xe2, 0x82));
    expect((parseGgufHeader(b.bytes()).metadata[0]!.value as GgufArray).items).toEqual(['\ufffdA', '\ufffd']);
  });
});

describe('rejected headers: typed errors with the byte offset of the bad field', () => {
  const base = () => new RawGguf().header(3, 0, 1);

  test('ERR_GGUF_BAD_MAGIC', () => {
    const e = expectError(Uint8Array.from([0x47, 0x47, 0x4d, 0x4c, 3, 0, 0, 0]), 'ERR_GGUF_BAD_MAGIC', 0);
    expect(e.message).toMatch(/Expected the magic "GGUF"/);
  });

  test('ERR_GGUF_UNSUPPORTED_VERSION for 0, 4 and a huge version', () => {
    for (const v of [0, 4, 0x12345678]) expectError(new RawGguf().header(v, 0, 0).bytes(), 'ERR_GGUF_UNSUPPORTED_VERSION', 4);
  });

  test('ERR_GGUF_TRUNCATED where the bytes run out', () => {
    expectError(Uint8Array.from([0x47, 0x47]), 'ERR_GGUF_TRUNCATED', 0);
    const b = base().str('key').u32(T.STRING).mark('len').u64(10).raw([0x41, 0x42]);
    expectError(b.bytes(), 'ERR_GGUF_TRUNCATED', b.at('len'));
  });

  test('hostile counts fail fast, before anything is allocated (n_kv = 2^60, n_tensors = 2^64-1)', () => {
    const t = performance.now();
    expectError(new RawGguf().header(3, 0, 2n ** 60n).zeros(1000).bytes(), 'ERR_GGUF_LIMIT', 16);
    expectError(new RawGguf().header(3, 0, 2n ** 40n).zeros(1000).bytes(), 'ERR_GGUF_TRUNCATED', 16);
    expectError(new RawGguf().header(3, 2n ** 64n - 1n, 0).bytes(), 'ERR_GGUF_LIMIT', 8);
    expectError(new RawGguf(false).header(3, 2n ** 31n, 0).bytes(), 'ERR_GGUF_TRUNCATED', 8);
    expect(performance.now() - t).toBeLessThan(100);
  });

  test('ERR_GGUF_LIMIT for string and array lengths over 2^30', () => {
    const s = base().mark('len').u64(2n ** 30n + 1n).zeros(16);
    expectError(s.bytes(), 'ERR_GGUF_LIMIT', s.at('len'));
    const a = base().str('a').u32(T.ARRAY).u32(T.UINT8).mark('n').u64(2n ** 63n);
    expectError(a.bytes(), 'ERR_GGUF_LIMIT', a.at('n'));
    const sv = base().str('a').u32(T.ARRAY).u32(T.STRING).len(2).str('x').mark('len').u64(2n ** 32n);
    expectError(sv.bytes(), 'ERR_GGUF_LIMIT', sv.at('len'));
  });

  test('an array length within the limit but beyond the file is ERR_GGUF_TRUNCATED at the length', () => {
    const a = base().str('a').u32(T.ARRAY).u32(T.UINT32).mark('n').u64(2n ** 30n).u32(1);
    expectError(a.bytes(), 'ERR_GGUF_TRUNCATED', a.at('n'));
  });

  test('ERR_GGUF_BAD_VALUE_TYPE for scalar and item types', () => {
    const s = base().str('a').mark('t').u32(13).u8(0);
    expectError(s.bytes(), 'ERR_GGUF_BAD_VALUE_TYPE', s.at('t'));
    const a = base().str('a').u32(T.ARRAY).mark('t').u32(0xffffffff).u64(0);
    expectError(a.bytes(), 'ERR_GGUF_BAD_VALUE_TYPE', a.at('t'));
  });

  test('ERR_GGUF_EMPTY_KEY and ERR_GGUF_DUPLICATE_KEY', () => {
    const e = base().mark('k').str('').u32(T.UINT8).u8(1);
    expectError(e.bytes(), 'ERR_GGUF_EMPTY_KEY', e.at('k'));
    const d = new RawGguf().header(3, 0, 2).str('k').u32(T.UINT8).u8(1).mark('k2').str('k').u32(T.UINT8).u8(2);
    expectError(d.bytes(), 'ERR_GGUF_DUPLICATE_KEY', d.at('k2'));
  });

  test('ERR_GGUF_BAD_ALIGNMENT: not UINT32, zero, not a power of two', () => {
    const wrongType = base().str('general.alignment').mark('t').u32(T.UINT64).u64(32);
    expectError(wrongType.bytes(), 'ERR_GGUF_BAD_ALIGNMENT', wrongType.at('t'));
    for (const a of [0, 3, 48]) {
      const b = base().str('general.alignment').u32(T.UINT32).mark('v').u32(a);
      expectError(b.bytes(), 'ERR_GGUF_BAD_ALIGNMENT', b.at('v'));
    }
  });

  const tensorFile = (build: (b: RawGguf) => void, nTensors = 1) => {
    const b = new RawGguf().header(3, nTensors, 0);
    build(b);
    return b;
  };

  test('ERR_GGUF_TENSOR_NAME: 64 bytes is too long (GGML_MAX_NAME includes the NUL)', () => {
    const ok = tensorFile((b) => b.tensor('n'.repeat(63), [1], GgmlType.F32, 0).padTo(32).zeros(32));
    expect(parseGgufHeader(ok.bytes(), { fileSize: ok.length }).tensors[0]!.name).toHaveLength(63);
    const b = tensorFile((b) => b.mark('name').tensor('n'.repeat(64), [1], GgmlType.F32, 0));
    expectError(b.bytes(), 'ERR_GGUF_TENSOR_NAME', b.at('name'));
  });

  test('ERR_GGUF_DUPLICATE_TENSOR', () => {
    const b = tensorFile((b) => b.tensor('w', [8], GgmlType.F32, 0).mark('second').tensor('w', [8], GgmlType.F32, 32), 2);
    expectError(b.bytes(), 'ERR_GGUF_DUPLICATE_TENSOR', b.at('second'));
  });

  test('ERR_GGUF_TENSOR_DIMS for n_dims > 4', () => {
    const b = tensorFile((b) => b.str('w').mark('dims').u32(5).zeros(64));
    expectError(b.bytes(), 'ERR_GGUF_TENSOR_DIMS', b.at('dims'));
  });

  test('ERR_GGUF_TENSOR_TYPE for removed (Q4_2 = 4, Q4_0_4_4 = 31) and unknown (43) types', () => {
    for (const type of [4, 31, 43, 0xffffffff]) {
      const b = tensorFile((b) => b.str('w').u32(1).u64(32).mark('type').u32(type).u64(0));
      expectError(b.bytes(), 'ERR_GGUF_TENSOR_TYPE', b.at('type'));
    }
  });

  test('ERR_GGUF_TENSOR_SHAPE: negative ne, overflowing product, row not a multiple of the block', () => {
    const neg = tensorFile((b) => b.str('w').u32(2).u64(32).mark('ne1').u64(2n ** 64n - 1n).u32(0).u64(0));
    expectError(neg.bytes(), 'ERR_GGUF_TENSOR_SHAPE', neg.at('ne1'));
    const big = tensorFile((b) => b.str('w').mark('dims').u32(3).u64(2n ** 32n).u64(2n ** 32n).u64(2n ** 32n).u32(0).u64(0));
    expectError(big.bytes(), 'ERR_GGUF_TENSOR_SHAPE', big.at('dims'));
    const block = tensorFile((b) => b.str('w').mark('dims').u32(1).u64(33).u32(GgmlType.Q4_0).u64(0));
    expectError(block.bytes(), 'ERR_GGUF_TENSOR_SHAPE', block.at('dims') + 4);
  });

  test('ERR_GGUF_TENSOR_OFFSET: offsets must be the running sum of padded sizes (no gaps, in order)', () => {
    const b = tensorFile(
      (b) => b.tensor('a', [8], GgmlType.F32, 0).str('b').u32(1).u64(8).u32(GgmlType.F32).mark('off').u64(64).padTo(32).zeros(128),
      2,
    );
    const e = expectError(b.bytes(), 'ERR_GGUF_TENSOR_OFFSET', b.at('off'));
    expect(e.message).toMatch(/Expected offset 32/);
  });

  test('ERR_GGUF_TENSOR_EXTENT when a tensor ends past the end of the file', () => {
    const b = tensorFile((b) => b.str('w').u32(1).u64(64).u32(GgmlType.F32).mark('off').u64(0).padTo(32).zeros(255));
    expectError(b.bytes(), 'ERR_GGUF_TENSOR_EXTENT', b.at('off'));
    // without a known file size (a bare prefix) extents are not checked
    expect(parseGgufHeader(b.bytes()).tensors[0]!.byteLength).toBe(256);
  });

  test('ERR_GGUF_TRUNCATED when the file ends before the padded data section start', () => {
    const b = tensorFile((b) => b.tensor('w', [0], GgmlType.F32, 0));
    expectError(b.bytes(), 'ERR_GGUF_TRUNCATED', b.length);
  });

  test('ERR_GGUF_PREFIX_TOO_SHORT when parseGgufHeader gets less than the header of a larger file', () => {
    const b = everyValueType(new RawGguf()).bytes();
    const e = parseError(b.subarray(0, 40), b.length);
    expect(e.code).toBe('ERR_GGUF_PREFIX_TOO_SHORT');
  });

  test('errors from a path carry the file name; nothing but GgufError escapes', async () => {
    const path = join(tmp, 'bad.gguf');
    writeFileSync(path, new RawGguf().header(3, 0, 5).bytes());
    await expect(readGgufHeader(path)).rejects.toMatchObject({ code: 'ERR_GGUF_TRUNCATED', file: path, offset: 16 });
    expect(() => readGgufHeaderSync(path)).toThrow(expect.objectContaining({ code: 'ERR_GGUF_TRUNCATED', file: path }));
    writeFileSync(path, new Uint8Array(0));
    await expect(readGgufHeader(path)).rejects.toMatchObject({ code: 'ERR_GGUF_TRUNCATED', offset: 0 });
  });
});

describe('reading files by positioned reads', () => {
  function bigVocab(nTokens: number, tokenBytes: number): Uint8Array {
    const b = new RawGguf().header(3, 1, 3);
    b.str('general.architecture').u32(T.STRING).str('llama');
    b.str('tokenizer.ggml.tokens').u32(T.ARRAY).u32(T.STRING).len(nTokens);
    for (let i = 0; i < nTokens; i++) b.str(`${i}`.padStart(tokenBytes, 'ĝ'));
    b.str('tokenizer.ggml.scores').u32(T.ARRAY).u32(T.FLOAT32).len(nTokens);
    for (let i = 0; i < nTokens; i++) b.f32(i / 2);
    b.tensor('w', [32], GgmlType.Q8_0, 0).padTo(32).zeros(64);
    return b.bytes();
  }

  test('a header several times larger than the first read parses the same as from memory', async () => {
    const bytes = bigVocab(60_000, 20);
    expect(bytes.length).toBeGreaterThan(2 * FIRST_READ_BYTES);
    const path = join(tmp, 'big.gguf');
    writeFileSync(path, bytes);
    const expected = parseGgufHeader(bytes, { fileSize: bytes.length });
    expect(await readGgufHeader(path)).toEqual(expected);
    expect(readGgufHeaderSync(path)).toEqual(expected);
    expect((expected.metadata[1]!.value as GgufArray).items[59_999]).toBe('ĝĝĝĝĝĝĝĝĝĝĝĝĝĝĝ59999');
  });

  test('an aborted signal stops the read', async () => {
    const path = join(tmp, 'small.gguf');
    writeFileSync(path, bigVocab(10, 4));
    await expect(readGgufHeader(path, { signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});

describe('string arrays decode on first access', () => {
  const build = () => {
    const b = new RawGguf().header(3, 0, 1);
    b.str('tokens').u32(T.ARRAY).u32(T.STRING).len(4).str('<s>').str('▁the').str('').str('Ġworld');
    return b.bytes();
  };

  test('a caller reusing its buffer after parsing cannot change the strings', () => {
    const bytes = build();
    const h = parseGgufHeader(bytes, { fileSize: bytes.length });
    bytes.fill(0x41); // the caller overwrites its buffer before anyone looks at the tokens
    expect((h.metadata[0]!.value as GgufArray).items).toEqual(['<s>', '▁the', '', 'Ġworld']);
  });

  test('items decode once, can be replaced, and survive structuredClone and JSON', () => {
    const bytes = build();
    const array = parseGgufHeader(bytes, { fileSize: bytes.length }).metadata[0]!.value as GgufArray;
    const first = array.items;
    expect(array.items).toBe(first);
    expect(structuredClone(array)).toEqual({ itemType: T.STRING, items: ['<s>', '▁the', '', 'Ġworld'] });
    expect(JSON.parse(JSON.stringify(array))).toEqual({ itemType: T.STRING, items: ['<s>', '▁the', '', 'Ġworld'] });
    array.items = ['x'];
    expect(array.items).toEqual(['x']);
  });
});
