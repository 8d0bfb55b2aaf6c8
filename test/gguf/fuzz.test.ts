// Seeded mutation fuzzer for the header parser: every mutated header either parses or is rejected with
// a GgufError — never a RangeError from a DataView, never an allocation sized by a hostile count,
// never a hang. Deterministic: GGUF_FUZZ_SEED picks another seed, GGUF_FUZZ_CASES another count.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { GgufError } from '../../lib/gguf/errors.js';
import { parseGgufHeader, readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType as T } from '../../lib/gguf/types.js';
import { GGUF_DATA, haveGgufData } from './gguf-data.js';
import { RawGguf } from './rawGguf.js';
import { mulberry32 } from '../../lib/synthetic/mulberry32.js';

const SEED = Number(process.env.GGUF_FUZZ_SEED ?? 0x9e3779b9) >>> 0;
const CASES = Number(process.env.GGUF_FUZZ_CASES ?? 120_000);
const FILE_CASES = 400;

/** mulberry32 with helpers: small, fast, good enough to drive mutations. */
function prng(seed: number) {
  const next = mulberry32(seed);
  return { next, int: (n: number) => Math.floor(next() * n), pick: <X>(xs: readonly X[]) => xs[Math.floor(next() * xs.length)] as X };
}
type Rng = ReturnType<typeof prng>;

function synthetic(le: boolean, v1: boolean, rng: Rng): Uint8Array {
  const b = new RawGguf(le, v1);
  const nTensors = rng.int(4);
  const kvs: Array<(b: RawGguf) => void> = [
    (b) => b.str('general.architecture').u32(T.STRING).str('llama'),
    (b) => b.str('general.alignment').u32(T.UINT32).u32(rng.pick([8, 16, 32, 64])),
    (b) => b.str('u8').u32(T.UINT8).u8(7),
    (b) => b.str('i16').u32(T.INT16).u16(-2),
    (b) => b.str('f32').u32(T.FLOAT32).f32(0.5),
    (b) => b.str('bool').u32(T.BOOL).u8(1),
    (b) => b.str('tokens').u32(T.ARRAY).u32(T.STRING).len(4).str('<s>').str('é').str('').str('▁the'),
    (b) => b.str('scores').u32(T.ARRAY).u32(T.FLOAT32).len(3).f32(1).f32(2).f32(3),
    (b) => b.str('nested').u32(T.ARRAY).u32(T.ARRAY).len(2).u32(T.UINT16).len(1).u16(9).u32(T.STRING).len(1).str('x'),
  ];
  if (!v1) {
    kvs.push((b) => b.str('u64').u32(T.UINT64).u64(2n ** 63n));
    kvs.push((b) => b.str('f64').u32(T.FLOAT64).f64(1e300));
    kvs.push((b) => b.str('i64s').u32(T.ARRAY).u32(T.INT64).len(2).u64(-1n).u64(5n));
  }
  const chosen = kvs.filter(() => rng.next() < 0.6);
  b.header(v1 ? 1 : rng.pick([2, 3]), nTensors, chosen.length);
  for (const kv of chosen) kv(b);
  let offset = 0;
  const alignment = 32;
  for (let i = 0; i < nTensors; i++) {
    const [type, ne] = rng.pick([
      [GgmlType.F32, [4, 2]],
      [GgmlType.Q8_0, [32]],
      [GgmlType.Q4_K, [256, 1]],
      [GgmlType.F16, [3, 1, 2]],
    ] as Array<[number, number[]]>);
    b.tensor(`blk.${i}.w`, ne, type, offset);
    offset += 64 * 10; // deliberately sloppy: offsets are often wrong, so later checks get exercised
  }
  b.padTo(alignment).zeros(rng.int(3) * 256);
  return b.bytes();
}

function deepArrays(rng: Rng): Uint8Array {
  const depth = 1 + rng.int(20);
  const b = new RawGguf(rng.next() < 0.8).header(3, 0, 1).str('deep').u32(T.ARRAY);
  for (let d = 1; d < depth; d++) b.u32(T.ARRAY).len(1 + rng.int(2));
  b.u32(rng.int(13)).len(rng.int(4));
  b.zeros(rng.int(64));
  return b.bytes();
}

function readPrefix(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(n);
    const got = readSync(fd, out, 0, n, 0);
    return out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

const realSeeds: Array<{ bytes: Uint8Array; fileSize: number }> = [];
if (haveGgufData) {
  // stories260K: the whole header (its vocabulary is 512 tokens); vocab files: their first KiBs.
  const stories = join(GGUF_DATA, 'models/stories260K.gguf');
  realSeeds.push({ bytes: readPrefix(stories, 14176), fileSize: 1185376 });
  for (const f of ['llama.cpp-vocab/ggml-vocab-llama-spm.gguf', 'llama.cpp-vocab/ggml-vocab-gpt-2.gguf', 'legacy/ggml-vocab-llama.gguf-v1.gguf']) {
    const bytes = readPrefix(join(GGUF_DATA, f), 6144);
    realSeeds.push({ bytes, fileSize: bytes.length });
  }
}

const BOUNDARY = [0n, 1n, 2n ** 30n, 2n ** 30n + 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

/** Offsets that probably hold a count or a length: a small u64 (or u32) value. */
function lengthLikeOffsets(bytes: Uint8Array): number[] {
  const out: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let p = 4; p + 8 <= bytes.length && out.length < 400; p++) {
    const le = view.getBigUint64(p, true);
    const be = view.getBigUint64(p, false);
    if ((le > 0n && le < 4096n) || (be > 0n && be < 4096n)) out.push(p);
  }
  return out;
}

function mutate(src: Uint8Array, rng: Rng, lengthOffsets: number[]): { bytes: Uint8Array; what: string[] } {
  let bytes = src.slice();
  const what: string[] = [];
  const n = 1 + rng.int(3);
  for (let m = 0; m < n; m++) {
    const kind = rng.int(6);
    if (kind === 0 && bytes.length > 0) {
      const at = rng.int(bytes.length);
      bytes = bytes.slice(0, at);
      what.push(`truncate@${at}`);
    } else if (kind === 1 && bytes.length > 0) {
      for (let k = 1 + rng.int(8); k > 0; k--) {
        const at = rng.int(bytes.length);
        bytes[at] = rng.next() < 0.5 ? (bytes[at] as number) ^ (1 << rng.int(8)) : rng.int(256);
        what.push(`flip@${at}`);
      }
    } else if (kind === 2 && bytes.length >= 8) {
      const at = lengthOffsets.length > 0 && rng.next() < 0.8 ? rng.pick(lengthOffsets) : rng.int(bytes.length - 7);
      if (at + 8 > bytes.length) continue;
      const value = rng.pick(BOUNDARY);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const le = rng.next() < 0.7;
      if (rng.next() < 0.5) view.setBigUint64(at, value, le);
      else view.setUint32(at, Number(value & 0xffffffffn), le);
      what.push(`count@${at}=${value}`);
    } else if (kind === 3 && bytes.length > 0) {
      const a = rng.int(bytes.length);
      const b = Math.min(bytes.length, a + 1 + rng.int(256));
      const at = rng.int(bytes.length);
      const out = new Uint8Array(bytes.length + (b - a));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(a, b), at);
      out.set(bytes.subarray(at), at + (b - a));
      bytes = out;
      what.push(`dup[${a},${b})@${at}`);
    } else if (kind === 4 && bytes.length > 0) {
      const a = rng.int(bytes.length);
      const b = Math.min(bytes.length, a + 1 + rng.int(64));
      const out = new Uint8Array(bytes.length - (b - a));
      out.set(bytes.subarray(0, a));
      out.set(bytes.subarray(b), a);
      bytes = out;
      what.push(`delete[${a},${b})`);
    } else if (kind === 5 && bytes.length >= 8) {
      // swap the version's byte order (big-endian detection), or set a random version
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      view.setUint32(4, rng.pick([1, 2, 3, 4, 0, 0x01000000, 0x02000000, 0x03000000]), true);
      what.push('version');
    }
  }
  return { bytes, what };
}

const tmp = mkdtempSync(join(tmpdir(), 'gguf-forge-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test(`mutated headers parse or throw GgufError (seed ${SEED}, ${CASES} cases)`, () => {
  const rng = prng(SEED);
  const codes = new Map<string, number>();
  let parsed = 0;
  let slowest = 0;
  const started = performance.now();
  const realOffsets = realSeeds.map((s) => lengthLikeOffsets(s.bytes));
  for (let i = 0; i < CASES; i++) {
    const caseSeed = (SEED + Math.imul(i, 0x9e3779b1)) >>> 0;
    const r = prng(caseSeed);
    let src: Uint8Array;
    let fileSize: number | undefined;
    let offsets: number[] = [];
    const pick = r.next();
    if (pick < 0.08) src = deepArrays(r);
    else if (pick < 0.2 && realSeeds.length > 0) {
      const k = r.int(realSeeds.length);
      src = realSeeds[k]!.bytes;
      offsets = realOffsets[k]!;
      fileSize = r.next() < 0.5 ? realSeeds[k]!.fileSize : undefined;
    } else src = synthetic(r.next() < 0.75, r.next() < 0.15, r);
    if (offsets.length === 0) offsets = lengthLikeOffsets(src);
    const { bytes, what } = pick < 0.08 && r.next() < 0.5 ? { bytes: src, what: ['deep'] } : mutate(src, r, offsets);
    const size = fileSize === undefined ? (r.next() < 0.7 ? bytes.length : undefined) : Math.max(fileSize, bytes.length);
    const t = performance.now();
    try {
      parseGgufHeader(bytes, size === undefined ? {} : { fileSize: size });
      parsed++;
    } catch (e) {
      if (!(e instanceof GgufError)) {
        throw new Error(`case ${i} (GGUF_FUZZ_SEED=${SEED}, case seed ${caseSeed}, mutations ${what.join(' ')}) threw ${String(e)}\n${(e as Error).stack}`);
      }
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
    const took = performance.now() - t;
    if (took > slowest) slowest = took;
    if (took > 500) throw new Error(`case ${i} (seed ${caseSeed}, ${what.join(' ')}) took ${took.toFixed(0)} ms`);
  }
  void rng;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `GGUF fuzz: ${CASES} cases in ${seconds.toFixed(1)} s (seed ${SEED}), ${parsed} parsed, slowest ${slowest.toFixed(1)} ms; ` +
      [...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', '),
  );
  expect(codes.size).toBeGreaterThan(10);
  expect(parsed).toBeGreaterThan(0);
});

test(`mutated files read from disk (sync path) parse or throw GgufError (${FILE_CASES} cases)`, () => {
  const path = join(tmp, 'case.gguf');
  for (let i = 0; i < FILE_CASES; i++) {
    const caseSeed = (SEED ^ 0x5bd1e995) + i;
    const r = prng(caseSeed);
    const src = realSeeds.length > 0 && r.next() < 0.3 ? realSeeds[r.int(realSeeds.length)]!.bytes : synthetic(r.next() < 0.75, r.next() < 0.15, r);
    const { bytes, what } = mutate(src, r, lengthLikeOffsets(src));
    writeFileSync(path, bytes);
    try {
      readGgufHeaderSync(path);
    } catch (e) {
      if (!(e instanceof GgufError)) throw new Error(`file case ${i} (seed ${caseSeed}, ${what.join(' ')}) threw ${String(e)}`);
      expect(e.file).toBe(path);
    }
  }
});
