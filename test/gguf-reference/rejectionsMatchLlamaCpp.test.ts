// Malformed GGUF headers that llama.cpp's reader refuses: gguf-forge's reader must refuse them too,
// with a GgufError (never a RangeError from a DataView, a hang or a huge allocation). And the
// well-formed control files both accept.
import { describe, expect, it } from 'vitest';
import { GgufError } from '../../lib/gguf/errors.js';
import { parseGgufHeader } from '../../lib/gguf/reader.js';
import { referenceUnavailableReason } from '../reference/ggmlLibrary.js';
import { ggufReferenceAvailable, referenceGgmlVersion, referenceReadGgufBuffer } from '../reference/ggufReference.js';
import { diffHeaders } from './compareWithReference.js';

const available = ggufReferenceAvailable();
if (!available) console.warn(`skipping llama.cpp GGUF rejection comparison: ${referenceUnavailableReason()}`);

/** Little GGUF byte builder: every field is written explicitly so any of them can be wrong. */
class B {
  private parts: number[] = [];
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u32(v: number): this { for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff); return this; }
  u64(v: number | bigint): this { let x = BigInt(v); for (let i = 0; i < 8; i++) { this.parts.push(Number(x & 0xffn)); x >>= 8n; } return this; }
  str(s: string): this { const b = new TextEncoder().encode(s); this.u64(b.length); for (const c of b) this.parts.push(c); return this; }
  raw(bytes: ArrayLike<number>): this { for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i] as number); return this; }
  head(version: number, nTensors: number | bigint, nKv: number | bigint): this { return this.raw([0x47, 0x47, 0x55, 0x46]).u32(version).u64(nTensors).u64(nKv); }
  kvU32(key: string, v: number): this { return this.str(key).u32(4).u32(v); }
  kvStr(key: string, v: string): this { return this.str(key).u32(8).str(v); }
  tensor(name: string, ne: number[], type: number, offset: number): this {
    this.str(name).u32(ne.length);
    for (const d of ne) this.u64(d);
    return this.u32(type).u64(offset);
  }
  pad(to: number): this { while (this.parts.length % to !== 0) this.parts.push(0); return this; }
  zeros(n: number): this { for (let i = 0; i < n; i++) this.parts.push(0); return this; }
  get length(): number { return this.parts.length; }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** A valid file: one kv, two F32 tensors [8] (32 bytes each), alignment 32. */
function valid(): B {
  return new B().head(3, 2, 1).kvStr('general.architecture', 'llama').tensor('a', [8], 0, 0).tensor('b', [8], 0, 32).pad(32).zeros(64);
}

const cases: Array<[string, () => Uint8Array]> = [
  ['bad magic', () => { const b = valid().bytes(); b[0] = 0x46; return b; }],
  ['version 0', () => new B().head(0, 0, 0).bytes()],
  ['version 4', () => new B().head(4, 0, 0).bytes()],
  ['truncated in the header counts', () => valid().bytes().subarray(0, 20)],
  ['truncated in a key', () => new B().head(3, 0, 1).str('general.architecture').bytes().subarray(0, 30)],
  ['truncated in a string value', () => new B().head(3, 0, 1).str('k').u32(8).u64(100).raw([1, 2, 3]).bytes()],
  ['truncated in the tensor infos', () => valid().bytes().subarray(0, 80)],
  ['n_kv larger than the file could hold', () => new B().head(3, 0, 2n ** 62n).bytes()],
  ['n_tensors larger than the file could hold', () => new B().head(3, 2n ** 62n, 0).bytes()],
  ['string length 2^40', () => new B().head(3, 0, 1).str('k').u32(8).u64(2n ** 40n).bytes()],
  ['array length 2^40', () => new B().head(3, 0, 1).str('k').u32(9).u32(4).u64(2n ** 40n).bytes()],
  ['empty key', () => new B().head(3, 0, 1).kvU32('', 1).bytes()],
  ['duplicate key', () => new B().head(3, 0, 2).kvU32('k', 1).kvU32('k', 2).bytes()],
  ['value type 13', () => new B().head(3, 0, 1).str('k').u32(13).u32(0).bytes()],
  ['array item type 13', () => new B().head(3, 0, 1).str('k').u32(9).u32(13).u64(1).u32(0).bytes()],
  ['general.alignment as u64', () => new B().head(3, 0, 1).str('general.alignment').u32(10).u64(32).bytes()],
  ['general.alignment as i32', () => new B().head(3, 0, 1).str('general.alignment').u32(5).u32(32).bytes()],
  ['general.alignment 0', () => new B().head(3, 0, 1).kvU32('general.alignment', 0).bytes()],
  ['general.alignment 48 (not a power of 2)', () => new B().head(3, 0, 1).kvU32('general.alignment', 48).bytes()],
  ['duplicate tensor name', () => new B().head(3, 2, 0).tensor('a', [8], 0, 0).tensor('a', [8], 0, 32).pad(32).zeros(64).bytes()],
  ['tensor name of 64 bytes', () => new B().head(3, 1, 0).tensor('n'.repeat(64), [8], 0, 0).pad(32).zeros(32).bytes()],
  ['n_dims 5', () => new B().head(3, 1, 0).tensor('a', [8, 1, 1, 1, 1], 0, 0).pad(32).zeros(32).bytes()],
  ['negative ne', () => new B().head(3, 1, 0).tensor('a', [8, -1], 0, 0).pad(32).zeros(32).bytes()],
  ['tensor type 4 (removed Q4_2)', () => new B().head(3, 1, 0).tensor('a', [32], 4, 0).pad(32).zeros(32).bytes()],
  ['tensor type 1000', () => new B().head(3, 1, 0).tensor('a', [32], 1000, 0).pad(32).zeros(32).bytes()],
  ['Q8_0 with ne[0] = 48 (not a multiple of 32)', () => new B().head(3, 1, 0).tensor('a', [48], 8, 0).pad(32).zeros(64).bytes()],
  ['second tensor offset not the running padded sum (gap)', () => new B().head(3, 2, 0).tensor('a', [8], 0, 0).tensor('b', [8], 0, 64).pad(32).zeros(96).bytes()],
  ['tensors out of order', () => new B().head(3, 2, 0).tensor('a', [8], 0, 32).tensor('b', [8], 0, 0).pad(32).zeros(64).bytes()],
  ['first tensor offset not 0', () => new B().head(3, 1, 0).tensor('a', [8], 0, 32).pad(32).zeros(64).bytes()],
];

// Files gguf-forge rejects on purpose although llama.cpp 0.25.1's reader (no_alloc, no data read)
// lets them through: it does not compare tensor extents with the file size, and it computed
// ggml_nbytes = 0 for the overflowing shape (newer ggml checks the product against INT64_MAX).
const stricter: Array<[string, () => Uint8Array]> = [
  ['tensor data past the end of the file', () => new B().head(3, 1, 0).tensor('a', [1024], 0, 0).pad(32).zeros(32).bytes()],
  ['shape product overflows int64', () => new B().head(3, 1, 0).tensor('a', [2 ** 31, 2 ** 31, 2 ** 31], 0, 0).pad(32).zeros(32).bytes()],
];

// Files llama.cpp refuses and gguf-forge reads on purpose, like gguf-py: big-endian GGUF v3 and
// nested arrays (the spec allows both).
const wider: Array<[string, () => Uint8Array, (h: ReturnType<typeof parseGgufHeader>) => void]> = [
  ['big-endian version (0x03000000)', () => Uint8Array.from([0x47, 0x47, 0x55, 0x46, 0, 0, 0, 3, ...new Array<number>(16).fill(0)]), (h) => {
    expect(h.littleEndian).toBe(false);
    expect(h.version).toBe(3);
  }],
  ['array of arrays', () => new B().head(3, 0, 1).str('k').u32(9).u32(9).u64(1).u32(4).u64(1).u32(7).bytes(), (h) => {
    expect(h.metadata[0]?.type).toBe(9);
  }],
];

describe.skipIf(!available)('GGUF reader rejects what llama.cpp rejects', () => {
  it('control: a valid file is read identically by both', () => {
    const bytes = valid().bytes();
    const ref = referenceReadGgufBuffer(bytes);
    expect(ref).not.toBeNull();
    if (ref) expect(diffHeaders('<valid control>', parseGgufHeader(bytes), ref)).toEqual([]);
  });

  for (const [name, make] of cases) {
    it(name, () => {
      const bytes = make();
      expect(referenceReadGgufBuffer(bytes), `${name}: llama.cpp accepted it, so the case is wrong`).toBeNull();
      let error: unknown;
      try {
        parseGgufHeader(bytes, { fileSize: bytes.length });
      } catch (e) {
        error = e;
      }
      expect(error, `${name}: gguf-forge accepted a file llama.cpp rejects`).toBeDefined();
      expect(error, `${name}: ${String(error)}`).toBeInstanceOf(GgufError);
    });
  }
});

describe.skipIf(!available)('GGUF reader: deliberate differences from llama.cpp', () => {
  for (const [name, make] of stricter) {
    it(`gguf-forge rejects (llama.cpp does not check): ${name}`, () => {
      const bytes = make();
      const ref = referenceReadGgufBuffer(bytes);
      if (ref) console.info(`${name}: llama.cpp ${referenceGgmlVersion()} accepts it (tensor sizes ${ref.tensors.map((t) => t.size).join(', ')})`);
      expect(() => parseGgufHeader(bytes, { fileSize: bytes.length })).toThrow(GgufError);
    });
  }
  for (const [name, make, check] of wider) {
    it(`gguf-forge reads (llama.cpp rejects): ${name}`, () => {
      const bytes = make();
      expect(referenceReadGgufBuffer(bytes)).toBeNull();
      check(parseGgufHeader(bytes, { fileSize: bytes.length }));
    });
  }
});
