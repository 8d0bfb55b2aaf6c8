// `npm run bench [NAME…] [-- OPTIONS]`: every benchmark, each beside its reference in the same process.
//   npm run bench                      all benchmarks, default settings
//   npm run bench quantize             the quantization table (options: see bench/quantize.bench.ts)
//   npm run bench quantize -- --types Q4_K,Q8_0 --values 16777216 --json
//   npm run bench model-quantize       a 1.1 B model to Q4_K_M/Q8_0/Q4_0 beside llama_model_quantize
//   npm run bench gemm                 the GEMM kernels beside the scalar reference
//   npm run bench create-import        create FROM a 2.2 GB GGUF beside cp, --link beside node's sha256
//   npm run bench convert              a 1.1 B BF16 checkpoint to F16 beside cp (+ sync)
//   npm run bench registry             pull and push of a 1 GiB blob via docker-registry beside curl
// Options after `--` go to every benchmark named.
import { runGgufHeaderBench } from './ggufHeader.bench.js';
import { convertBenchMain } from './convert.bench.js';
import { createImportBenchMain } from './createImport.bench.js';
import { gemmBenchMain } from './gemm.bench.js';
import { modelQuantizeBenchMain } from './modelQuantize.bench.js';
import { quantizeBenchMain } from './quantize.bench.js';
import { registryBenchMain } from './registry.bench.js';

const args = process.argv.slice(2);
const names = ['gguf-header', 'quantize', 'model-quantize', 'gemm', 'create-import', 'convert', 'registry'];
const only = args.filter((a) => names.includes(a));
const options = args.filter((a) => !names.includes(a));
const want = (name: string): boolean => only.length === 0 || only.includes(name);
const fail = (code: number) => {
  if (code) process.exitCode = code;
};

if (want('gguf-header')) await runGgufHeaderBench();
if (want('quantize')) fail(await quantizeBenchMain(options));
if (want('gemm')) fail(gemmBenchMain(options));
if (want('model-quantize')) fail(await modelQuantizeBenchMain(options));
if (want('create-import')) fail(await createImportBenchMain(options));
if (want('convert')) fail(convertBenchMain(options));
if (want('registry')) fail(await registryBenchMain(options));
