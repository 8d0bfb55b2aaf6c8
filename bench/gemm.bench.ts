// GEMM throughput: the blocked SIMD kernels beside the scalar reference (cpp/matmul/gemm_ref.cpp,
// an i-p-j loop the compiler vectorises for the baseline ISA) in the same process, per shape and
// thread count. The default shapes are the LoRA merge of issue #7 (C[4096×4096] += s·B[4096×64]·A[64×4096])
// and a square 1024³. Every variant's result is checked against the reference's before it is
// timed; a disagreement beyond 1e-5 of the scale is printed loudly and makes the run exit 1.
//
//   npx tsx bench/gemm.bench.ts [--shapes 4096x4096x64,1024x1024x1024] [--threads 1,2] [--isas scalar,avx512] [--seconds 0.5] [--json]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gemmSync } from '../lib/matmul/gemm.js';
import { loadNative, type IsaName } from '../lib/native.js';

export interface GemmBenchRow {
  shape: string;
  isa: IsaName;
  threads: number;
  /** Median of the timed runs, milliseconds. */
  ms: number;
  gflops: number;
  /** gflops over the scalar reference's at the same thread count (undefined when it was not run). */
  speedup?: number;
  /** Largest |ours − reference| / (|alpha|·k + |c|): the difference relative to a bound on each element (inputs in [-1, 1)). */
  maxScaledDiff?: number;
}

export interface GemmBenchOptions {
  shapes?: Array<[number, number, number]>;
  threads?: number[];
  isas?: IsaName[];
  /** Time spent per measurement, at least 3 runs (default 0.5 s). */
  seconds?: number;
}

function randomMatrix(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

// |x − y| over a bound of each element's magnitude: k·max|a|·max|b|·|alpha| + |c| (inputs are in [-1, 1)).
function maxScaledDiff(x: Float32Array, y: Float32Array, c0: Float32Array, k: number, alpha: number): number {
  let worst = 0;
  for (let e = 0; e < x.length; e++) worst = Math.max(worst, Math.abs(x[e]! - y[e]!) / (Math.abs(alpha) * k + Math.abs(c0[e]!)));
  return worst;
}

export function runGemmBenchmark(options: GemmBenchOptions = {}, log: (line: string) => void = () => {}): GemmBenchRow[] {
  const native = loadNative();
  const shapes = options.shapes ?? [
    [4096, 4096, 64],
    [1024, 1024, 1024],
  ];
  const threadCounts = options.threads ?? [1, 2];
  const isas = options.isas ?? native.supportedIsas();
  const seconds = options.seconds ?? 0.5;
  const previous = native.isa();
  const rows: GemmBenchRow[] = [];
  try {
    for (const [m, n, k] of shapes) {
      const shape = `${m}x${n}x${k}`;
      const a = randomMatrix(m * k, 1);
      const b = randomMatrix(k * n, 2);
      const c0 = randomMatrix(m * n, 3);
      const alpha = 0.5; // C += 0.5·A·B: the merge's update, beta 1
      native.setIsa('scalar');
      const reference = gemmSync(a, b, { m, n, k, c: c0.slice(), alpha });
      const baseline = new Map<number, number>();
      for (const isa of isas) {
        native.setIsa(isa);
        const check = gemmSync(a, b, { m, n, k, c: c0.slice(), alpha });
        const diff = isa === 'scalar' ? 0 : maxScaledDiff(check, reference, c0, k, alpha);
        const c = c0.slice();
        for (const threads of threadCounts) {
          gemmSync(a, b, { m, n, k, c, alpha, threads }); // warm-up: pages, caches, pool
          const times: number[] = [];
          const until = performance.now() + seconds * 1000;
          while (times.length < 3 || performance.now() < until) {
            const t0 = performance.now();
            gemmSync(a, b, { m, n, k, c, alpha, threads });
            times.push(performance.now() - t0);
          }
          const ms = median(times);
          const gflops = (2 * m * n * k) / (ms * 1e6);
          if (isa === 'scalar') baseline.set(threads, gflops);
          const base = baseline.get(threads);
          rows.push({ shape, isa, threads, ms, gflops, ...(base ? { speedup: gflops / base } : {}), maxScaledDiff: diff });
          log(`${shape} ${isa} ${threads} thread(s): ${gflops.toFixed(1)} GFLOP/s`);
        }
      }
    }
  } finally {
    native.setIsa(previous);
  }
  return rows;
}

export function formatGemmBench(rows: GemmBenchRow[]): string {
  const header = ['shape (m x n x k)', 'kernel', 'threads', 'ms', 'GFLOP/s', 'vs reference', 'max diff vs ref'];
  const body = rows.map((r) => [
    r.shape,
    r.isa === 'scalar' ? 'scalar reference' : `${r.isa} blocked`,
    String(r.threads),
    r.ms.toFixed(2),
    r.gflops.toFixed(1),
    r.speedup === undefined ? '' : `${r.speedup.toFixed(1)}x`,
    r.isa === 'scalar' ? '' : r.maxScaledDiff!.toExponential(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

export function gemmBenchMain(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      shapes: { type: 'string' },
      threads: { type: 'string' },
      isas: { type: 'string' },
      seconds: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  const shapes = list(values.shapes)?.map((s) => {
    const dims = s.split('x').map(Number);
    if (dims.length !== 3 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new RangeError(`--shapes: expected MxNxK, got '${s}'`);
    return dims as [number, number, number];
  });
  const json = values.json === true;
  const rows = runGemmBenchmark(
    {
      ...(shapes ? { shapes } : {}),
      ...(values.threads ? { threads: list(values.threads)!.map(Number) } : {}),
      ...(values.isas ? { isas: list(values.isas) as IsaName[] } : {}),
      ...(values.seconds ? { seconds: Number(values.seconds) } : {}),
    },
    json ? () => {} : (line) => process.stderr.write(`  ${line}\n`),
  );
  if (json) console.log(JSON.stringify(rows, null, 2));
  else process.stdout.write(formatGemmBench(rows));
  const bad = rows.filter((r) => r.maxScaledDiff !== undefined && r.maxScaledDiff > 1e-5);
  if (bad.length > 0) {
    process.stderr.write(`\n!!! MISMATCH: ${[...new Set(bad.map((r) => `${r.isa} on ${r.shape}`))].join(', ')} differ from the reference by more than 1e-5 of the scale !!!\n\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = gemmBenchMain(process.argv.slice(2));
}
