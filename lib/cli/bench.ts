import { BENCH_QUANT_TYPES, DEFAULT_BENCH_VALUES, formatQuantizeBench, runQuantizeBenchmark } from '../bench/quantizeBench.js';
import { resolveQuantType } from '../quantize/typeInfo.js';
import { integerFlag, parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

const SUBCOMMANDS = ['quantize'];

function list(value: string | boolean | Array<string | boolean> | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

export const benchCommand: Command = {
  name: 'bench',
  summary: "quantization throughput, ours beside ggml's ggml_quantize_chunk",
  usage: 'gguf-forge bench quantize [--types Q4_K,Q8_0] [--values N] [--threads 1,2] [--iterations N] [--ours-only] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        types: { type: 'string' },
        values: { type: 'string' },
        threads: { type: 'string' },
        iterations: { type: 'string' },
        'ours-only': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      benchCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${benchCommand.usage}`,
          '',
          `Quantizes one seeded, normally distributed f32 buffer (--values, default ${DEFAULT_BENCH_VALUES} = 64 Mi, a multiple of 256;`,
          'ggml\'s IQ4 types alone then take about two minutes; --values 16777216 is quicker)',
          `into each type (--types, default ${BENCH_QUANT_TYPES.join(',')}) at each thread count (--threads, default 1,2),`,
          "with gguf-forge's kernels and, when it can be loaded, ggml's own ggml_quantize_chunk (llama.cpp's libggml-base.so",
          'from @node-llama-cpp/<platform> through koffi, both devDependencies: in a clone after npm install they are there;',
          'GGUF_FORGE_GGML_BASE may name another libggml-base). Our bytes are compared with ggml\'s before timing; a mismatch',
          'exits 1. MB/s is 10^6 bytes of f32 input per second, from the best of --iterations (default 2) runs after a warm-up.',
          '--ours-only skips ggml; --json prints the result as JSON only.',
          '',
        ].join('\n'),
      );
      return 0;
    }
    const [sub, ...extra] = positionals;
    if (sub === undefined) throw new UsageError(`which benchmark? (${SUBCOMMANDS.join(', ')})\nUsage: ${benchCommand.usage}`);
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown benchmark '${sub}' (known: ${SUBCOMMANDS.join(', ')})`);
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'\nUsage: ${benchCommand.usage}`);
    const types = list(values.types);
    const threadList = list(values.threads);
    const threads = threadList?.map((t) => integerFlag(t, 'threads', 1) ?? 1);
    const valuesPerType = integerFlag(values.values, 'values', 256);
    if (valuesPerType !== undefined && valuesPerType % 256 !== 0) throw new UsageError(`--values must be a multiple of 256, got ${valuesPerType}`);
    const iterations = integerFlag(values.iterations, 'iterations', 1);
    const json = values.json === true;
    for (const t of types ?? []) {
      let info;
      try {
        info = resolveQuantType(t);
      } catch (err) {
        throw new UsageError(`--types: ${(err as Error).message}`);
      }
      if (info.blockSize === 1) throw new UsageError(`--types: ${info.name} is not a block-quantized type`);
    }
    const result = await runQuantizeBenchmark({
      ...(types ? { types } : {}),
      ...(threads ? { threads } : {}),
      ...(valuesPerType !== undefined ? { valuesPerType } : {}),
      ...(iterations !== undefined ? { iterations } : {}),
      reference: values['ours-only'] !== true,
      ...(!json && process.stderr.isTTY ? { onProgress: (m: string) => process.stderr.write(`${m}\n`) } : {}),
    });
    if (json) printJson(result);
    else process.stdout.write(formatQuantizeBench(result));
    if (result.mismatches.length > 0) {
      process.stderr.write(`gguf-forge bench: MISMATCH: our bytes differ from ggml_quantize_chunk's for ${result.mismatches.join(', ')}\n`);
      return 1;
    }
    return 0;
  },
};
