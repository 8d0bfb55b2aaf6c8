// GGUF specs (metadata + tensors with data) in the gguf-forge API's shapes, written by both
// gguf-forge's writer and llama.cpp's to compare bytes. Data is random but seeded.
import type { RefWriteSpec, RefWriteTensor, RefWriteMetadataEntry } from '../reference/ggufReference.js';

export const T = {
  UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9,
  UINT64: 10, INT64: 11, FLOAT64: 12,
} as const;

/** ggml types: [id, block size, bytes per block]. */
export const GGML = {
  F32: [0, 1, 4], F16: [1, 1, 2], Q4_0: [2, 32, 18], Q4_1: [3, 32, 20], Q5_0: [6, 32, 22], Q5_1: [7, 32, 24],
  Q8_0: [8, 32, 34], Q2_K: [10, 256, 84], Q3_K: [11, 256, 110], Q4_K: [12, 256, 144], Q5_K: [13, 256, 176],
  Q6_K: [14, 256, 210], IQ4_NL: [20, 32, 18], IQ4_XS: [23, 256, 136], I8: [24, 1, 1], I16: [25, 1, 2],
  I32: [26, 1, 4], I64: [27, 1, 8], F64: [28, 1, 8], BF16: [30, 1, 2],
} as const satisfies Record<string, readonly [number, number, number]>;

export type GgmlName = keyof typeof GGML;

/** xorshift32, deterministic per seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

export function randomBytes(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r() & 0xff;
  return out;
}

export function tensor(name: string, type: GgmlName, shape: number[], seed: number): RefWriteTensor {
  const [id, blck, size] = GGML[type];
  const n = ((shape[0] as number) / blck) * size * shape.slice(1).reduce((a, b) => a * b, 1);
  return { name, type: id, shape, data: randomBytes(n, seed) };
}

function m(key: string, type: number, value: RefWriteMetadataEntry['value']): RefWriteMetadataEntry {
  return { key, type, value };
}

function arr(key: string, itemType: number, items: unknown): RefWriteMetadataEntry {
  return { key, type: T.ARRAY, value: { itemType, items: items as never } };
}

const F32_SPECIALS = [0, -0, 1, -1, 0.1, 1e-45, 1.17549435e-38, 3.4028234663852886e38, Infinity, -Infinity, Math.PI];
const F64_SPECIALS = [0, -0, 1, -1, 0.1, 5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, Infinity, -Infinity, Math.E];

export interface NamedSpec {
  name: string;
  spec: RefWriteSpec;
}

export function writerSpecs(): NamedSpec[] {
  const specs: NamedSpec[] = [];
  const r = rng(1234);

  specs.push({
    name: 'every scalar type, 0 tensors',
    spec: {
      metadata: [
        m('general.architecture', T.STRING, 'llama'),
        m('s.u8.min', T.UINT8, 0), m('s.u8.max', T.UINT8, 255),
        m('s.i8.min', T.INT8, -128), m('s.i8.max', T.INT8, 127),
        m('s.u16.max', T.UINT16, 65535), m('s.i16.min', T.INT16, -32768), m('s.i16.max', T.INT16, 32767),
        m('s.u32.max', T.UINT32, 4294967295), m('s.i32.min', T.INT32, -2147483648), m('s.i32.max', T.INT32, 2147483647),
        m('s.u64.max', T.UINT64, 2n ** 64n - 1n), m('s.u64.zero', T.UINT64, 0n),
        m('s.i64.min', T.INT64, -(2n ** 63n)), m('s.i64.max', T.INT64, 2n ** 63n - 1n),
        ...F32_SPECIALS.map((v, i) => m(`s.f32.${i}`, T.FLOAT32, Math.fround(v))),
        ...F64_SPECIALS.map((v, i) => m(`s.f64.${i}`, T.FLOAT64, v)),
        m('s.bool.true', T.BOOL, true), m('s.bool.false', T.BOOL, false),
        m('s.str.empty', T.STRING, ''),
        m('s.str.ascii', T.STRING, 'hello world'),
        m('s.str.unicode', T.STRING, 'héllo wörld ✓ 日本語 🦙 \u{10FFFF}'),
        m('s.str.multiline', T.STRING, "{% for m in messages %}\n{{ m['content'] }}\t{% endfor %}\r\n"),
        m('s.str.long', T.STRING, 'x'.repeat(70000)),
        m('s.ünïcode.kéy.🦙', T.STRING, 'key with unicode'),
      ],
      tensors: [],
    },
  });

  const n = 37;
  specs.push({
    name: 'arrays of every item type (incl. empty ones), 0 tensors',
    spec: {
      metadata: [
        m('general.architecture', T.STRING, 'test'),
        arr('a.u8', T.UINT8, Uint8Array.from({ length: n }, () => r() & 0xff)),
        arr('a.i8', T.INT8, Int8Array.from({ length: n }, () => (r() & 0xff) - 128)),
        arr('a.u16', T.UINT16, Uint16Array.from({ length: n }, () => r() & 0xffff)),
        arr('a.i16', T.INT16, Int16Array.from({ length: n }, () => (r() & 0xffff) - 32768)),
        arr('a.u32', T.UINT32, Uint32Array.from({ length: n }, () => r())),
        arr('a.i32', T.INT32, Int32Array.from({ length: n }, () => r() | 0)),
        arr('a.f32', T.FLOAT32, Float32Array.from([...F32_SPECIALS, ...Array.from({ length: n }, () => (r() / 2 ** 32 - 0.5) * 1e6)])),
        arr('a.u64', T.UINT64, BigUint64Array.from({ length: n }, () => (BigInt(r()) << 32n) | BigInt(r()))),
        arr('a.i64', T.INT64, BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, (BigInt(r()) << 32n) | BigInt(r())))),
        arr('a.f64', T.FLOAT64, Float64Array.from([...F64_SPECIALS, ...Array.from({ length: n }, () => (r() / 2 ** 32 - 0.5) * 1e300)])),
        arr('a.bool', T.BOOL, Array.from({ length: n }, () => (r() & 1) === 1)),
        arr('a.str', T.STRING, ['', 'a', 'héllo', '🦙🦙', ' ', '<0x0A>', 'Ġthe', '▁▁', '\n', 'x'.repeat(1000)]),
        arr('a.empty.u32', T.UINT32, new Uint32Array(0)),
        arr('a.empty.f32', T.FLOAT32, new Float32Array(0)),
        arr('a.empty.str', T.STRING, []),
        arr('a.empty.bool', T.BOOL, []),
        arr('a.single.i64', T.INT64, new BigInt64Array([-1n])),
      ],
      tensors: [],
    },
  });

  specs.push({
    name: 'no metadata, no tensors',
    spec: { metadata: [], tensors: [] },
  });

  specs.push({
    name: 'F32/F16/Q8_0/Q4_K tensors, 1-D..4-D, trailing 1 dims',
    spec: {
      metadata: [
        m('general.architecture', T.STRING, 'llama'),
        m('general.quantization_version', T.UINT32, 2),
        m('general.file_type', T.UINT32, 15),
      ],
      tensors: [
        tensor('t.f32.1d', 'F32', [64], 1),
        tensor('t.f32.col', 'F32', [64, 1], 2),
        tensor('t.q8_0.4d1', 'Q8_0', [32, 1, 1, 1], 3),
        tensor('t.f16.2d', 'F16', [3, 5], 4),
        tensor('t.f16.3d', 'F16', [7, 3, 2], 5),
        tensor('t.q4_k.2d', 'Q4_K', [256, 3], 6),
        tensor('t.q4_k.4d', 'Q4_K', [512, 2, 3, 2], 7),
        tensor('t.q8_0.3d1', 'Q8_0', [64, 2, 1], 8),
        tensor('t.f32.lead1', 'F32', [1, 8], 9),
        tensor('t.f32.scalar', 'F32', [1], 10),
        tensor('t.f32.ones', 'F32', [1, 1, 1, 1], 11),
        tensor('t.f32.mid1', 'F32', [4, 1, 3], 12),
      ],
    },
  });

  specs.push({
    name: 'one tensor of each common ggml type',
    spec: {
      metadata: [m('general.architecture', T.STRING, 'llama')],
      tensors: (Object.keys(GGML) as GgmlName[]).map((t, i) => tensor(`types.${t.toLowerCase()}`, t, [GGML[t][1] === 1 ? 5 : 512, 3], 100 + i)),
    },
  });

  for (const alignment of [64, 1, 8, 256]) {
    specs.push({
      name: `general.alignment = ${alignment} with tensors`,
      spec: {
        metadata: [
          m('general.architecture', T.STRING, 'llama'),
          m('general.alignment', T.UINT32, alignment),
          m('general.name', T.STRING, 'aligned'),
        ],
        tensors: [
          tensor('a.f16', 'F16', [3, 5], 20),
          tensor('a.q8_0', 'Q8_0', [32, 3], 21),
          tensor('a.f32', 'F32', [7], 22),
        ],
      },
    });
  }

  specs.push({
    name: 'general.alignment = 128 as the last key, 0 tensors',
    spec: {
      metadata: [m('general.architecture', T.STRING, 'llama'), m('general.alignment', T.UINT32, 128)],
      tensors: [],
    },
  });

  specs.push({
    name: 'llama-like header with 63-byte tensor name and empty-data tensor',
    spec: {
      metadata: [
        m('general.architecture', T.STRING, 'llama'),
        m('llama.context_length', T.UINT32, 4096),
        m('llama.rope.freq_base', T.FLOAT32, 10000),
        m('llama.attention.layer_norm_rms_epsilon', T.FLOAT32, Math.fround(1e-5)),
        m('tokenizer.ggml.model', T.STRING, 'llama'),
        arr('tokenizer.ggml.tokens', T.STRING, Array.from({ length: 300 }, (_, i) => (i < 3 ? ['<unk>', '<s>', '</s>'][i] : `tok${i}`) as string)),
        arr('tokenizer.ggml.scores', T.FLOAT32, Float32Array.from({ length: 300 }, (_, i) => -i / 7)),
        arr('tokenizer.ggml.token_type', T.INT32, Int32Array.from({ length: 300 }, (_, i) => (i < 3 ? 3 : 1))),
        m('tokenizer.ggml.add_bos_token', T.BOOL, true),
      ],
      tensors: [
        tensor('n'.repeat(63), 'F32', [16], 30),
        tensor('empty.f32', 'F32', [0], 31),
        tensor('token_embd.weight', 'Q8_0', [64, 300], 32),
      ],
    },
  });

  return specs;
}
