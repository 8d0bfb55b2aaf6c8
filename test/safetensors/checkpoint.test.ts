// Sharded and single-file checkpoints: tensors come in convert_hf_to_gguf's order (shards by file
// name, names sorted within a shard), and an index that disagrees with its shards is refused.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SafetensorsCheckpoint } from '../../lib/safetensors/checkpoint.js';
import { dequantizeE4M3Rows, e4m3ToFloat32 } from '../../lib/safetensors/fp8.js';
import { writeSafetensors } from '../../lib/safetensors/writer.js';
import { f32Bytes, scratch } from './rawSafetensors.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let n = 0;
async function sharded(weightMap: Record<string, string> | null, shards: Record<string, string[]>): Promise<string> {
  const dir = join(scratch, `ckpt${n++}`);
  mkdirSync(dir);
  for (const [file, names] of Object.entries(shards)) {
    await writeSafetensors(join(dir, file), names.map((name, i) => ({ name, dtype: 'F32' as const, shape: [1], data: f32Bytes([i]) })));
  }
  if (weightMap) writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return dir;
}

describe('checkpoints', () => {
  test('an index lists shards; tensors come shard by shard, sorted inside each', async () => {
    const dir = await sharded(
      { 'model.layers.2.w': 'model-00001-of-00002.safetensors', 'model.layers.10.w': 'model-00001-of-00002.safetensors', 'lm_head.weight': 'model-00002-of-00002.safetensors', 'model.embed.weight': 'model-00002-of-00002.safetensors' },
      { 'model-00002-of-00002.safetensors': ['model.embed.weight', 'lm_head.weight'], 'model-00001-of-00002.safetensors': ['model.layers.2.w', 'model.layers.10.w'] },
    );
    using ckpt = SafetensorsCheckpoint.open(dir);
    expect(ckpt.files.map((f) => f.path.split('/').pop())).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(ckpt.tensors.map((t) => t.name)).toEqual(['model.layers.10.w', 'model.layers.2.w', 'lm_head.weight', 'model.embed.weight']);
    expect(ckpt.tensor('lm_head.weight')?.file).toBe(ckpt.files[1]);
    expect(ckpt.tensor('nope')).toBeUndefined();
  });

  test('without an index every model*.safetensors is read; a single file can be opened directly', async () => {
    const dir = await sharded(null, { 'model.safetensors': ['b', 'a'], 'other.safetensors': ['x'] });
    using ckpt = SafetensorsCheckpoint.open(dir);
    expect(ckpt.tensors.map((t) => t.name)).toEqual(['a', 'b']);
    using single = SafetensorsCheckpoint.open(join(dir, 'other.safetensors'));
    expect(single.tensors.map((t) => t.name)).toEqual(['x']);
  });

  test('an index that disagrees with its shards is refused', async () => {
    const missing = await sharded({ a: 'model-1.safetensors', b: 'model-1.safetensors' }, { 'model-1.safetensors': ['a'] });
    expect(() => SafetensorsCheckpoint.open(missing)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/missing tensors \[b\]/) }));
    const extra = await sharded({ a: 'model-1.safetensors' }, { 'model-1.safetensors': ['a', 'c'] });
    expect(() => SafetensorsCheckpoint.open(extra)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/extra tensors \[c\]/) }));
    const misplaced = await sharded({ a: 'model-1.safetensors', b: 'model-2.safetensors' }, { 'model-1.safetensors': ['a', 'b'], 'model-2.safetensors': [] });
    expect(() => SafetensorsCheckpoint.open(misplaced)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/another shard than indexed \[b\]/) }));
    const absent = await sharded({ a: 'model-9.safetensors' }, {});
    expect(() => SafetensorsCheckpoint.open(absent)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/Missing model file model-9/) }));
  });

  test('shard names that leave the directory, malformed indexes and duplicate tensors are refused', async () => {
    for (const bad of ['../model.safetensors', '/etc/passwd', 'a/b.safetensors', '..', 7]) {
      const dir = await sharded({ a: bad as string }, {});
      expect(() => SafetensorsCheckpoint.open(dir)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX' }));
    }
    const notJson = await sharded(null, {});
    writeFileSync(join(notJson, 'model.safetensors.index.json'), '{"weight_map": ');
    expect(() => SafetensorsCheckpoint.open(notJson)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/not JSON/) }));
    const noMap = await sharded(null, {});
    writeFileSync(join(noMap, 'model.safetensors.index.json'), '{"weight_map": [1]}');
    expect(() => SafetensorsCheckpoint.open(noMap)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_INDEX', message: expect.stringMatching(/weight_map/) }));
    const dup = await sharded(null, { 'model-a.safetensors': ['w'], 'model-b.safetensors': ['w'] });
    expect(() => SafetensorsCheckpoint.open(dup)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_DUPLICATE', tensor: 'w' }));
    const empty = await sharded(null, {});
    expect(() => SafetensorsCheckpoint.open(empty)).toThrow(expect.objectContaining({ code: 'ERR_SAFETENSORS_NOT_FOUND' }));
  });
});

describe('FP8 E4M3', () => {
  test('every byte decodes as e4m3fn defines it', () => {
    const all = e4m3ToFloat32(Uint8Array.from({ length: 256 }, (_, i) => i));
    expect(all[0x38]).toBe(1);
    expect(all[0x7e]).toBe(448); // the largest finite value
    expect(all[0xfe]).toBe(-448);
    expect(all[0x01]).toBe(2 ** -9); // smallest subnormal
    expect(all[0x08]).toBe(2 ** -6); // smallest normal
    expect(Object.is(all[0x80], -0)).toBe(true);
    expect(Number.isNaN(all[0x7f])).toBe(true);
    expect(Number.isNaN(all[0xff])).toBe(true);
    expect([...all].filter(Number.isNaN)).toHaveLength(2);
  });

  test('block scales repeat over [rows, cols] blocks, ragged edges included; per-row and scalar scales', () => {
    const rows = 5;
    const cols = 6;
    const w = Uint8Array.from({ length: rows * cols }, (_, i) => (i * 37) % 0x7e);
    const scale = Float32Array.from([0.5, 2, 3, 0.25, 8, 1.5]); // ceil(5/2) x ceil(6/4) = 3 x 2 blocks
    const decoded = e4m3ToFloat32(w);
    const got = dequantizeE4M3Rows(w.subarray(2 * cols, 5 * cols), cols, 2, 3, { values: scale, shape: [3, 2] }, [2, 4]);
    for (let r = 2; r < 5; r++) {
      for (let c = 0; c < cols; c++) {
        const s = scale[Math.floor(r / 2) * 2 + Math.floor(c / 4)] as number;
        expect(got[(r - 2) * cols + c]).toBe(Math.fround((decoded[r * cols + c] as number) * s));
      }
    }
    const perRow = dequantizeE4M3Rows(w.subarray(0, cols), cols, 0, 1, { values: Float32Array.from([3, 9]), shape: [2] });
    expect(perRow[1]).toBe(Math.fround((decoded[1] as number) * 3));
    const scalar = dequantizeE4M3Rows(w.subarray(cols, 2 * cols), cols, 1, 1, { values: Float32Array.from([0.5]), shape: [] });
    expect(scalar[0]).toBe((decoded[cols] as number) * 0.5);
    expect(() => dequantizeE4M3Rows(w, cols, 0, 4, { values: scale, shape: [3, 2] }, [2, 4])).toThrow(RangeError);
  });
});
