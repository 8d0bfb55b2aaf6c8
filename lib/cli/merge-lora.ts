import { FILE_TYPE_NAMES } from '../quantize/fileTypes.js';
import { mergeLora, type MergeLoraProgress } from '../lora/merge.js';
import { interruptible, mib, writeTensorProgress } from './tensorJob.js';
import { integerFlag, parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

export const mergeLoraCommand: Command = {
  name: 'merge-lora',
  summary: 'merge a LoRA adapter (GGUF, PEFT or MLX directory) into a GGUF base model',
  usage: 'gguf-forge merge-lora BASE.gguf ADAPTER(.gguf|DIR) OUT.gguf [--scale S] [--outtype TYPE] [--threads N] [--ignore-base-model-name] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        scale: { type: 'string' },
        outtype: { type: 'string' },
        threads: { type: 'string' },
        'ignore-base-model-name': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      mergeLoraCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${mergeLoraCommand.usage}`,
          '',
          "Writes BASE with W' = W + S·(alpha/rank)·B·A for every tensor the adapter changes, computed in f32 (what",
          'llama.cpp computes when it applies the adapter at run time). The adapter is checked against the base first:',
          'architecture, every target tensor present, dimensions that fit; nothing is written on a mismatch.',
          '--scale S: the adapter scale (default 1, as --lora-scaled).',
          `--outtype TYPE: ${FILE_TYPE_NAMES.join(' ')} (any case): the file llama-quantize would make of the merged`,
          'model. Default: every tensor keeps the base type (quantized tensors are requantized after the merge).',
          '--ignore-base-model-name: do not compare the model family named in an adapter directory\'s config with BASE.',
          'The file appears at OUT only when complete.',
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 3) throw new UsageError(`expected BASE ADAPTER OUT, got ${positionals.length} argument(s)\nUsage: ${mergeLoraCommand.usage}`);
    const [base, adapter, output] = positionals as [string, string, string];
    let scale: number | undefined;
    if (values.scale !== undefined) {
      scale = typeof values.scale === 'string' && values.scale.trim() !== '' ? Number(values.scale) : NaN;
      if (!Number.isFinite(scale)) throw new UsageError(`--scale must be a number, got '${String(values.scale)}'`);
    }
    const json = values.json === true;
    const tty = !json && process.stderr.isTTY;
    return interruptible(async (signal) => {
      const result = await mergeLora(base, adapter, output, {
        scale,
        outType: typeof values.outtype === 'string' ? values.outtype : undefined,
        threads: integerFlag(values.threads, 'threads', 1),
        ignoreBaseModelName: values['ignore-base-model-name'] === true,
        signal,
        onProgress: tty ? (p: MergeLoraProgress) => writeTensorProgress(p, p.merged ? 'merged' : '') : undefined,
      });
      if (tty) process.stderr.write('\n');
      if (json) {
        printJson(result);
        return 0;
      }
      process.stdout.write(
        `${output}: ${result.architecture}, ${result.merged.length} tensors merged (alpha ${result.alpha}, scale ${result.scale}), ${result.outType}, ${mib(result.outputBytes)} in ${result.seconds.toFixed(2)} s\n`,
      );
      return 0;
    });
  },
};
