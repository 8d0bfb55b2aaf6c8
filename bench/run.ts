// `npm run bench [NAME…] [-- OPTIONS]`: every benchmark, each beside its reference in the same process.
//   npm run bench                      all benchmarks, default settings
//   npm run bench quantize             the quantization table (options: see bench/quantize.bench.ts)
//   npm run bench quantize -- --types Q4_K,Q8_0 --values 16777216 --json
import { runGgufHeaderBench } from './ggufHeader.bench.js';
import { quantizeBenchMain } from './quantize.bench.js';

const args = process.argv.slice(2);
const names = ['gguf-header', 'quantize'];
const only = args.filter((a) => names.includes(a));
const options = args.filter((a) => !names.includes(a));
const want = (name: string): boolean => only.length === 0 || only.includes(name);

if (want('gguf-header')) await runGgufHeaderBench();
if (want('quantize')) process.exitCode = (await quantizeBenchMain(options)) || (process.exitCode ?? 0);
