// Quantization: ggml's ggml_quantize_chunk (llama.cpp's libggml-base.so, koffi) vs gguf-forge's
// quantizeSync on the same seeded normal f32 buffer (64 Mi values by default; ggml's IQ4 types alone then take
// about two minutes, `--values 16777216` is quicker), per type, at 1 and
// 2 threads, in one process. Our bytes are compared with ggml's before anything is timed; a
// mismatch is printed loudly and makes the run exit 1. The measuring code lives in
// lib/bench/quantizeBench.ts, shared with `gguf-forge bench quantize`.
//
//   npx tsx bench/quantize.bench.ts [--types Q4_K,Q8_0] [--values N] [--threads 1,2] [--iterations N] [--json]
//   npm run bench quantize -- [same options]
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  formatQuantizeBench,
  runQuantizeBenchmark,
  type QuantizeBenchOptions,
  type QuantizeBenchResult,
} from '../lib/bench/quantizeBench.js';

export interface RunQuantizeBenchOptions extends QuantizeBenchOptions {
  /** Print the table (default true). */
  print?: boolean;
}

export async function runQuantizeBench(options: RunQuantizeBenchOptions = {}): Promise<QuantizeBenchResult> {
  const { print = true, ...rest } = options;
  const result = await runQuantizeBenchmark({
    ...rest,
    ...(print && !rest.onProgress ? { onProgress: (m: string) => process.stderr.write(`  ${m}\n`) } : {}),
  });
  if (print) process.stdout.write(formatQuantizeBench(result));
  if (result.mismatches.length > 0) {
    process.stderr.write(`\n!!! MISMATCH: gguf-forge's bytes differ from ggml_quantize_chunk's for ${result.mismatches.join(', ')} !!!\n\n`);
  }
  return result;
}

const list = (s: string | undefined): string[] | undefined => s?.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
const int = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

/** Parses the bench's command-line options (shared by this file's main and bench/run.ts). */
export function quantizeBenchArgs(argv: string[]): { options: RunQuantizeBenchOptions; json: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      types: { type: 'string' },
      values: { type: 'string' },
      threads: { type: 'string' },
      iterations: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const types = list(values.types);
  const valuesPerType = int(values.values);
  const threads = list(values.threads)?.map(Number);
  const iterations = int(values.iterations);
  const json = values.json === true;
  return {
    json,
    options: {
      ...(types ? { types } : {}),
      ...(valuesPerType !== undefined ? { valuesPerType } : {}),
      ...(threads ? { threads } : {}),
      ...(iterations !== undefined ? { iterations } : {}),
      print: !json,
    },
  };
}

export async function quantizeBenchMain(argv: string[]): Promise<number> {
  const { options, json } = quantizeBenchArgs(argv);
  const result = await runQuantizeBench(options);
  if (json) console.log(JSON.stringify(result, null, 2));
  return result.mismatches.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await quantizeBenchMain(process.argv.slice(2));
}
