// The quantization benchmark behind `gguf-forge bench quantize` and `npm run bench quantize`: one
// seeded, normally distributed f32 buffer, quantized per type by ggml's own ggml_quantize_chunk
// (libggml-base.so through koffi, when installed: see ggmlReference.ts) and by ours, in the same
// process, at each thread count. Before anything is timed, our bytes are compared with ggml's.
// Throughput is MB/s of f32 input (10^6 bytes), from the best of `iterations` runs after a warm-up
// run; both sides write into a preallocated, already-written output buffer.
import { loadNative, type NativeAddon } from '../native.js';
import { quantizeSync } from '../quantize/quantize.js';
import { quantizedByteLength, resolveQuantType, type QuantTypeInfo } from '../quantize/typeInfo.js';
import { loadGgmlQuantizer, type GgmlQuantizer, type GgmlWorkers } from './ggmlReference.js';
import { mulberry32 } from '../synthetic/mulberry32.js';

/** The types the benchmark covers by default, in ggml id order. */
export const BENCH_QUANT_TYPES = ['Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q8_0', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_NL', 'IQ4_XS'] as const;

// 64 Mi values (256 MB of f32) by default, large enough that neither side runs from cache; ggml's IQ4_NL/IQ4_XS
// run near 20 MB/s on one thread, so a full run takes minutes (`--values 16777216` is quicker).
export const DEFAULT_BENCH_VALUES = 64 * 1024 * 1024;

export interface QuantizeBenchOptions {
  /** Type names (default BENCH_QUANT_TYPES). */
  types?: readonly string[];
  /** f32 values per type, a multiple of 256 (default 64 Mi). */
  valuesPerType?: number;
  /** Thread counts to time (default [1, 2]). */
  threads?: readonly number[];
  /** Timed runs per measurement after one warm-up run (default 2). */
  iterations?: number;
  /** PRNG seed of the source buffer (default 1). */
  seed?: number;
  /** Time ggml too when its library loads (default true). */
  reference?: boolean;
  /** Called before each type, e.g. to show progress. */
  onProgress?: (message: string) => void;
}

export interface QuantizeBenchTiming {
  threads: number;
  /** f32 input bytes / best time, in 10^6 bytes per second. */
  mbPerSecond: number;
  bestMs: number;
  meanMs: number;
}

export interface QuantizeBenchRow {
  type: string;
  /** Bytes of quantized output. */
  outputBytes: number;
  ours: QuantizeBenchTiming[];
  /** Null when the reference is unavailable. */
  ggml: QuantizeBenchTiming[] | null;
  /** Our bytes equal ggml's (every thread count, both sides); null without the reference. */
  identical: boolean | null;
  /** ours / ggml MB/s at the lowest thread count. */
  ratio: number | null;
  /** ours MB/s at the highest / at the lowest thread count. */
  scaling: number | null;
}

export interface QuantizeBenchResult {
  values: number;
  rows: number;
  cols: number;
  inputBytes: number;
  threads: number[];
  iterations: number;
  seed: number;
  /** Native pool size, chosen ISA and Node version the numbers come from. */
  poolThreads: number;
  isa: string;
  node: string;
  ggml: { version: string; path: string; twoThreadMethod: string } | { unavailable: string };
  results: QuantizeBenchRow[];
  /** Types whose bytes differed from ggml's. */
  mismatches: string[];
}

/** mulberry32 uniform [0, 1) → Box–Muller standard normals; the same buffer for the same seed. */
export function seededNormals(count: number, seed: number, out?: Float32Array): Float32Array {
  const values = out ?? new Float32Array(count);
  const uniform = mulberry32(seed);
  for (let i = 0; i < count; i += 2) {
    const u = 1 - uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    values[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) values[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return values;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function timing(threads: number, inputBytes: number, samples: number[]): QuantizeBenchTiming {
  const bestMs = Math.min(...samples);
  const meanMs = samples.reduce((s, x) => s + x, 0) / samples.length;
  return { threads, mbPerSecond: inputBytes / 1e6 / (bestMs / 1000), bestMs, meanMs };
}

function shared(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes);
}

/** Runs the benchmark; throws RangeError/TypeError on bad options and NativeLoadError without the addon. */
export async function runQuantizeBenchmark(options: QuantizeBenchOptions = {}): Promise<QuantizeBenchResult> {
  const types: QuantTypeInfo[] = (options.types ?? BENCH_QUANT_TYPES).map((t) => resolveQuantType(t));
  for (const t of types) {
    if (t.blockSize === 1) throw new RangeError(`Expected a block-quantized type for types but received '${t.name}'`);
  }
  const values = options.valuesPerType ?? DEFAULT_BENCH_VALUES;
  if (!Number.isSafeInteger(values) || values < 256 || values % 256 !== 0) {
    throw new RangeError(`Expected a positive multiple of 256 for valuesPerType but received ${values}`);
  }
  const threads = [...new Set(options.threads ?? [1, 2])].sort((a, b) => a - b);
  if (threads.length === 0 || threads.some((t) => !Number.isSafeInteger(t) || t < 1 || t > 256)) {
    throw new RangeError(`Expected thread counts from 1 to 256 for threads but received ${threads.join(',')}`);
  }
  const iterations = options.iterations ?? 2;
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError(`Expected an integer >= 1 for iterations but received ${iterations}`);
  const seed = options.seed ?? 1;
  const cols = values % 4096 === 0 ? 4096 : 256;
  const rows = values / cols;
  const inputBytes = values * 4;
  const native: NativeAddon = loadNative();
  const progress = options.onProgress ?? (() => {});

  let ggml: GgmlQuantizer | undefined;
  let ggmlInfo: QuantizeBenchResult['ggml'];
  if (options.reference ?? true) {
    const loaded = await loadGgmlQuantizer();
    if (loaded.ok) {
      ggml = loaded.ggml;
      ggmlInfo = {
        version: ggml.version,
        path: ggml.path,
        twoThreadMethod: 'rows split into contiguous ranges, one ggml_quantize_chunk per worker_thread (each loads the library)',
      };
    } else {
      ggmlInfo = { unavailable: loaded.reason };
    }
  } else {
    ggmlInfo = { unavailable: 'not requested' };
  }

  progress(`generating ${values} normal f32 values (seed ${seed})`);
  // ggml's worker threads read a SharedArrayBuffer; the addon takes only plain ArrayBuffers, so ours reads a copy.
  const sharedSrc = seededNormals(values, seed, new Float32Array(shared(inputBytes)));
  const src = new Float32Array(sharedSrc);
  const workers = new Map<number, GgmlWorkers>();
  const results: QuantizeBenchRow[] = [];
  const mismatches: string[] = [];
  try {
    if (ggml) for (const t of threads) if (t > 1) workers.set(t, await ggml.startWorkers(t));
    for (const type of types) {
      progress(`${type.name}: checking bytes, then timing`);
      const outputBytes = quantizedByteLength(type, rows, cols);
      const rowBytes = outputBytes / rows;
      // Correctness first, through the public API: ours (1 thread) against ggml, then every thread count.
      const expected = quantizeSync(type.name, src, { rows, cols, threads: 1 });
      const problems: string[] = [];
      const oursDst = new Uint8Array(outputBytes);
      for (const t of threads) {
        oursDst.fill(0);
        native.quantizeSync(type.id, src, 0, oursDst, rows, cols, null, t);
        const at = firstDifference(expected, oursDst);
        if (at >= 0) problems.push(`ours with ${t} threads differs from ours with 1 thread at byte ${at}`);
      }
      let ggmlDst: Uint8Array | undefined;
      if (ggml) {
        ggmlDst = new Uint8Array(shared(outputBytes));
        const written = ggml.quantizeChunk(type.id, sharedSrc, ggmlDst, rows, cols);
        if (written !== outputBytes) problems.push(`ggml wrote ${written} bytes, ${outputBytes} expected`);
        const at = firstDifference(ggmlDst, expected);
        if (at >= 0) problems.push(`ours differs from ggml_quantize_chunk at byte ${at} (row ${Math.floor(at / rowBytes)})`);
        for (const [t, w] of workers) {
          ggmlDst.fill(0);
          await w.quantizeSplit(type.id, sharedSrc, ggmlDst, rows, cols, rowBytes);
          const at2 = firstDifference(ggmlDst, expected);
          if (at2 >= 0) problems.push(`ggml on ${t} worker threads differs from ours at byte ${at2}`);
        }
      }
      if (problems.length > 0) {
        mismatches.push(type.name);
        progress(`${type.name}: MISMATCH: ${problems.join('; ')}`);
      }

      // Timing: runs interleaved (ggml t, ours t for each t, per iteration) so drift hits both.
      const oursSamples = new Map<number, number[]>(threads.map((t) => [t, []]));
      const ggmlSamples = new Map<number, number[]>(threads.map((t) => [t, []]));
      for (let i = 0; i < iterations; i++) {
        for (const t of threads) {
          if (ggml && ggmlDst) {
            const w = workers.get(t);
            const start = performance.now();
            if (w) await w.quantizeSplit(type.id, sharedSrc, ggmlDst, rows, cols, rowBytes);
            else ggml.quantizeChunk(type.id, sharedSrc, ggmlDst, rows, cols);
            ggmlSamples.get(t)?.push(performance.now() - start);
          }
          const start = performance.now();
          native.quantizeSync(type.id, src, 0, oursDst, rows, cols, null, t);
          oursSamples.get(t)?.push(performance.now() - start);
        }
      }
      const ours = threads.map((t) => timing(t, inputBytes, oursSamples.get(t) ?? []));
      const theirs = ggml ? threads.map((t) => timing(t, inputBytes, ggmlSamples.get(t) ?? [])) : null;
      const lo = threads[0] ?? 1;
      const hi = threads[threads.length - 1] ?? lo;
      const oursAt = (t: number): number | undefined => ours.find((o) => o.threads === t)?.mbPerSecond;
      const ggmlLo = theirs?.find((o) => o.threads === lo)?.mbPerSecond;
      const oursLo = oursAt(lo);
      const oursHi = oursAt(hi);
      results.push({
        type: type.name,
        outputBytes,
        ours,
        ggml: theirs,
        identical: ggml ? problems.length === 0 : null,
        ratio: ggmlLo !== undefined && oursLo !== undefined ? oursLo / ggmlLo : null,
        scaling: hi !== lo && oursHi !== undefined && oursLo !== undefined ? oursHi / oursLo : null,
      });
    }
  } finally {
    for (const w of workers.values()) await w.close();
  }
  return {
    values,
    rows,
    cols,
    inputBytes,
    threads,
    iterations,
    seed,
    poolThreads: native.threadCount(),
    isa: native.isa(),
    node: process.version,
    ggml: ggmlInfo,
    results,
    mismatches,
  };
}

const fmt = (x: number | null | undefined, digits = 0): string => (x === null || x === undefined ? '-' : x.toFixed(digits));

/** The plain-text table: one line per type. */
export function formatQuantizeBench(r: QuantizeBenchResult): string {
  const lo = r.threads[0] ?? 1;
  const withGgml = 'version' in r.ggml;
  const header = ['type'];
  for (const t of r.threads) {
    if (withGgml) header.push(`ggml ${t}T MB/s`);
    header.push(`ours ${t}T MB/s`);
    if (withGgml) header.push(`ratio ${t}T`);
  }
  if (r.threads.length > 1) header.push(`ours ${r.threads[r.threads.length - 1]}T/${lo}T`);
  if (withGgml) header.push('bytes');
  const lines: string[][] = [header];
  for (const row of r.results) {
    const cells = [row.type];
    for (const t of r.threads) {
      const o = row.ours.find((x) => x.threads === t);
      const g = row.ggml?.find((x) => x.threads === t);
      if (withGgml) cells.push(fmt(g?.mbPerSecond));
      cells.push(fmt(o?.mbPerSecond));
      if (withGgml) cells.push(o && g ? `${(o.mbPerSecond / g.mbPerSecond).toFixed(1)}×` : '-');
    }
    if (r.threads.length > 1) cells.push(row.scaling === null ? '-' : `${row.scaling.toFixed(2)}×`);
    if (withGgml) cells.push(row.identical === null ? '-' : row.identical ? 'equal' : 'MISMATCH');
    lines.push(cells);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const table = lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd());
  const mib = r.values % 1048576 === 0 ? `${r.values / 1048576} Mi` : `${r.values}`;
  const out = [
    `quantize ${mib} f32 values (${r.rows} rows × ${r.cols}, normal, seed ${r.seed}); MB/s = 10^6 bytes of f32 input per second, best of ${r.iterations} after a warm-up; ` +
      `isa ${r.isa}, pool ${r.poolThreads} threads, Node ${r.node}`,
    'version' in r.ggml
      ? `ggml ${r.ggml.version} (${r.ggml.path}); ggml with N>1 threads: ${r.ggml.twoThreadMethod}`
      : `ggml reference: ${r.ggml.unavailable}`,
    '',
    ...table,
  ];
  if (r.mismatches.length > 0) out.push('', `MISMATCH: our bytes differ from ggml's for ${r.mismatches.join(', ')}`);
  return `${out.join('\n')}\n`;
}
