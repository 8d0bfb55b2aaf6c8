// The safetensors reader: real files parse to the values their writers stored, tensors are zero-copy
// views of a mapping (detached on close) or positional reads, and every hostile header is refused
// with a typed error before any tensor data is touched.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { SafetensorsError } from '../../lib/safetensors/errors.js';
import { SafetensorsFile } from '../../lib/safetensors/file.js';
import { MAX_HEADER_BYTES, parseSafetensorsHeader } from '../../lib/safetensors/header.js';
import { serializeSafetensorsHeader, writeSafetensors } from '../../lib/safetensors/writer.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { f32Bytes, rawSafetensors, scratch, writeTemp } from './rawSafetensors.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function rejects(bytes: Uint8Array, code: string, message?: RegExp): SafetensorsError {
  let caught: unknown;
  try {
    parseSafetensorsHeader(bytes, bytes.length, 'x.safetensors');
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(SafetensorsError);
  const err = caught as SafetensorsError;
  expect(err.code).toBe(code);
  expect(err.file).toBe('x.safetensors');
  if (message) expect(err.message).toMatch(message);
  return err;
}

describe.skipIf(!sharedDataAvailable)('real files', () => {
  const dir = (name: string) => sharedData('safetensors', 'swift-transformers', name);

  test('swift-transformers fixtures hold the values they were written with', () => {
    using i32 = SafetensorsFile.open(dir('tensor-1d-int32.safetensors'));
    expect(i32.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([['embedding', 'I32', [3]]]);
    expect([...new Int32Array(i32.tensorData('embedding').slice().buffer)]).toEqual([1, 2, 3]);

    using f64 = SafetensorsFile.open(dir('tensor-2d-float64.safetensors'));
    expect(f64.tensor('embedding')?.shape).toEqual([2, 3]);
    expect([...new Float64Array(f64.tensorData('embedding').slice().buffer)]).toEqual([1, 2, 3, 24, 25, 26]);

    using f32 = SafetensorsFile.open(dir('tensor-4d-float32.safetensors'));
    const t = f32.tensor('embedding')!;
    expect([t.dtype, t.shape, t.offset, t.byteLength]).toEqual(['F32', [2, 3, 1, 3], 80, 72]);
    expect([...new Float32Array(f32.tensorData(t).slice().buffer)].slice(0, 6)).toEqual([11, 12, 13, 1, 2, 3]);
  });

  test('a PEFT adapter (metadata, 96 tensors) and an MLX adapter ("__metadata__": null) parse', () => {
    using peft = SafetensorsFile.open(sharedData('lora', 'peft-qwen2.5-0.5b-instruct-r8', 'adapter_model.safetensors'));
    expect(peft.header.metadata).toEqual({ format: 'pt' });
    expect(peft.tensors).toHaveLength(96);
    // Sorted by name, as safetensors lists keys.
    const names = peft.tensors.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(peft.tensor('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toMatchObject({ dtype: 'F32', shape: [8, 896] });
    using mlx = SafetensorsFile.open(sharedData('lora', 'mlx-discollama-llama3-8b', 'adapters.safetensors'));
    expect(mlx.header.metadata).toBeUndefined();
    expect(mlx.tensor('model.layers.30.self_attn.q_proj.lora_a')).toMatchObject({ dtype: 'F32', shape: [4096, 8] });
  });
});

describe('views and reads', () => {
  test('tensorData is a view of the mapping, detached by close(); read() returns the same bytes', async () => {
    const path = `${scratch}/two.safetensors`;
    await writeSafetensors(path, [
      { name: 'b', dtype: 'F32', shape: [2, 2], data: f32Bytes([1, 2, 3, 4]) },
      { name: 'a', dtype: 'BF16', shape: [3], data: new Uint8Array([0x80, 0x3f, 0, 0x40, 0x40, 0x40]) },
    ]);
    const file = SafetensorsFile.open(path);
    expect(file.tensors.map((t) => t.name)).toEqual(['a', 'b']);
    const view = file.tensorData('b');
    expect([...new Float32Array(view.slice().buffer)]).toEqual([1, 2, 3, 4]);
    // The same memory, not a copy: the raw file bytes at the tensor's offset.
    expect(Buffer.from(view).equals(readFileSync(path).subarray(file.tensor('b')!.offset, file.tensor('b')!.offset + 16))).toBe(true);
    expect([...(await file.read('b', 4, 8))]).toEqual([...f32Bytes([2, 3])]);
    const target = new Uint8Array(16).fill(7);
    await file.read('a', 0, 6, target);
    expect([...target.subarray(0, 6)]).toEqual([0x80, 0x3f, 0, 0x40, 0x40, 0x40]);
    await expect(file.read('a', 4, 4)).rejects.toThrow(RangeError);
    file.close();
    expect(view.length).toBe(0);
    expect(() => file.tensorData('b')).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_CLOSED' }));
    expect(() => file.tensorData('nope')).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_NOT_FOUND' }));
  });

  test('our writer pads the JSON to 8 bytes with spaces and the header round-trips', () => {
    const header = serializeSafetensorsHeader([{ name: 'w', dtype: 'F16', shape: [3, 1] }], { format: 'pt' });
    expect((header.length - 8) % 8).toBe(0);
    const bytes = new Uint8Array(header.length + 6);
    bytes.set(header);
    const parsed = parseSafetensorsHeader(bytes, bytes.length);
    expect(parsed.tensors).toEqual([{ name: 'w', dtype: 'F16', shape: [3, 1], begin: 0, end: 6, offset: header.length, byteLength: 6 }]);
    expect(parsed.metadata).toEqual({ format: 'pt' });
  });

  test('zero-element and scalar tensors are accepted', () => {
    const bytes = rawSafetensors({ empty: { dtype: 'F32', shape: [0, 4], data_offsets: [0, 0] }, scalar: { dtype: 'F32', shape: [], data_offsets: [0, 4] } }, f32Bytes([5]));
    const h = parseSafetensorsHeader(bytes, bytes.length);
    expect(h.tensors.map((t) => [t.name, t.byteLength])).toEqual([['empty', 0], ['scalar', 4]]);
  });
});

describe('hostile headers give typed errors', () => {
  const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  const data8 = f32Bytes([1, 2]);

  test('header length: fewer than 8 bytes, 0, over the limit, past the end', () => {
    rejects(new Uint8Array(5), 'ERR_SAFETENSORS_TRUNCATED');
    rejects(rawSafetensors('{}', new Uint8Array(0), 0n), 'ERR_SAFETENSORS_HEADER_LENGTH', /is 0/);
    rejects(rawSafetensors(ok, data8, BigInt(MAX_HEADER_BYTES) + 1n), 'ERR_SAFETENSORS_HEADER_LENGTH', /limit/);
    rejects(rawSafetensors(ok, data8, 2n ** 64n - 1n), 'ERR_SAFETENSORS_HEADER_LENGTH', /limit/);
    rejects(rawSafetensors(ok, data8, 200n), 'ERR_SAFETENSORS_HEADER_LENGTH', /past the end/);
  });

  test('not JSON, not an object, not UTF-8, not starting with {', () => {
    rejects(rawSafetensors('{"w": {"dtype": "F32",', data8), 'ERR_SAFETENSORS_JSON', /not JSON/);
    rejects(rawSafetensors('[1, 2]   '), 'ERR_SAFETENSORS_JSON', /start with/);
    rejects(rawSafetensors(' {}'), 'ERR_SAFETENSORS_JSON', /start with/);
    const bad = rawSafetensors('{"\xff":1}');
    bad[10] = 0xff;
    rejects(bad, 'ERR_SAFETENSORS_JSON', /UTF-8/);
    rejects(rawSafetensors({ w: [1, 2] }), 'ERR_SAFETENSORS_JSON', /not an object/);
    rejects(rawSafetensors({ __metadata__: { a: 1 } }), 'ERR_SAFETENSORS_JSON', /__metadata__/);
  });

  test('dtype and shape', () => {
    rejects(rawSafetensors({ w: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_DTYPE', /F33/);
    rejects(rawSafetensors({ w: { shape: [2], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_DTYPE');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_SHAPE');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [1.5], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_SHAPE');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: '2', data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_SHAPE');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: new Array(17).fill(1), data_offsets: [0, 4] } }, data8.subarray(0, 4)), 'ERR_SAFETENSORS_SHAPE');
    // shape × dtype size ≠ byte length, including a product that overflows 2^53.
    const err = rejects(rawSafetensors({ w: { dtype: 'F16', shape: [2], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_SHAPE', /needs 4 bytes but data_offsets span 8/);
    expect(err.tensor).toBe('w');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data8), 'ERR_SAFETENSORS_SHAPE');
  });

  test('offsets: malformed, outside the file, overlapping, leaving holes or trailing bytes', () => {
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), 'ERR_SAFETENSORS_OFFSETS');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8), 'ERR_SAFETENSORS_OFFSETS');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: ['0', '8'] } }, data8), 'ERR_SAFETENSORS_OFFSETS');
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data8), 'ERR_SAFETENSORS_EXTENT', /past the end/);
    rejects(rawSafetensors({ w: { dtype: 'F32', shape: [2], data_offsets: [2 ** 53 - 9, 2 ** 53 - 1] } }, data8), 'ERR_SAFETENSORS_EXTENT');
    const overlap = rejects(
      rawSafetensors({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8),
      'ERR_SAFETENSORS_OVERLAP',
      /"b".*overlaps tensor "a"/,
    );
    expect(overlap.offset).toBeGreaterThan(8);
    rejects(rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8), 'ERR_SAFETENSORS_OFFSETS', /hole/);
    rejects(rawSafetensors({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8), 'ERR_SAFETENSORS_EXTENT', /cover 4 of the 8/);
  });

  test('a header shorter than its declared length is reported as truncated, not read past', () => {
    const bytes = rawSafetensors(ok, data8);
    expect(() => parseSafetensorsHeader(bytes.subarray(0, 12), bytes.length)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_TRUNCATED' }));
  });

  test('SafetensorsFile.open reports the same errors for files, with the path', () => {
    const path = writeTemp(rawSafetensors({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] } }, data8));
    expect(() => SafetensorsFile.open(path)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_EXTENT', file: path, tensor: 'w' }));
    const tiny = writeTemp(new Uint8Array(3));
    expect(() => SafetensorsFile.open(tiny)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_TRUNCATED' }));
  });

  test('seeded mutations of a valid header either parse or throw SafetensorsError', () => {
    const base = rawSafetensors(
      { __metadata__: { format: 'pt' }, 'model.a': { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 8] }, 'model.b': { dtype: 'F32', shape: [2], data_offsets: [8, 16] } },
      new Uint8Array(16),
    );
    let s = 0x2545f491;
    const rand = (n: number) => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s % n;
    };
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      const m = base.slice();
      for (let k = 1 + rand(3); k > 0; k--) m[rand(m.length)] = rand(4) === 0 ? rand(256) : (m[rand(m.length)] as number);
      try {
        parseSafetensorsHeader(m, m.length);
        parsed++;
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw new Error(`mutation ${i} threw ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});
