import { ggmlTypeName } from '../gguf/ggmlTypes.js';
import { FILE_TYPE_NAMES } from '../quantize/fileTypes.js';
import { quantizeModel, type QuantizeModelProgress } from '../quantize/quantizeModel.js';
import { interruptible, mib, tensorTypeCounts, writeTensorProgress } from './tensorJob.js';
import { integerFlag, parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

function strings(value: string | boolean | Array<string | boolean> | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

export const quantizeCommand: Command = {
  name: 'quantize',
  summary: 'quantize an F32/F16/BF16 GGUF model exactly as llama-quantize does',
  usage: 'gguf-forge quantize IN.gguf OUT.gguf TYPE [--threads N] [--imatrix FILE] [--tensor-type REGEX=TYPE]... [--output-tensor-type T] [--token-embedding-type T] [--leave-output-tensor] [--pure] [--allow-requantize] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        threads: { type: 'string' },
        imatrix: { type: 'string' },
        'tensor-type': { type: 'string', multiple: true },
        'output-tensor-type': { type: 'string' },
        'token-embedding-type': { type: 'string' },
        'leave-output-tensor': { type: 'boolean' },
        pure: { type: 'boolean' },
        'allow-requantize': { type: 'boolean' },
        json: { type: 'boolean' },
      },
      quantizeCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${quantizeCommand.usage}`,
          '',
          `TYPE: ${FILE_TYPE_NAMES.join(' ')} (any case; Q4_K means Q4_K_M).`,
          'Chooses each tensor\'s type with llama-quantize\'s rules and writes the file llama_model_quantize writes, byte for',
          'byte. --imatrix reads llama-imatrix files (GGUF or legacy .dat). The file appears at OUT only when complete.',
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 3) throw new UsageError(`expected IN OUT TYPE, got ${positionals.length} argument(s)\nUsage: ${quantizeCommand.usage}`);
    const [input, output, type] = positionals as [string, string, string];
    const json = values.json === true;
    const tty = !json && process.stderr.isTTY;
    return interruptible(async (signal) => {
      const result = await quantizeModel(input, output, type, {
        threads: integerFlag(values.threads, 'threads', 1),
        imatrix: typeof values.imatrix === 'string' ? values.imatrix : undefined,
        tensorTypes: strings(values['tensor-type']),
        outputTensorType: typeof values['output-tensor-type'] === 'string' ? values['output-tensor-type'] : undefined,
        tokenEmbeddingType: typeof values['token-embedding-type'] === 'string' ? values['token-embedding-type'] : undefined,
        leaveOutputTensor: values['leave-output-tensor'] === true,
        pure: values.pure === true,
        allowRequantize: values['allow-requantize'] === true,
        signal,
        onProgress: tty
          ? (p: QuantizeModelProgress) => {
              if (p.name) writeTensorProgress(p, mib(p.bytesWritten));
            }
          : undefined,
      });
      if (tty) process.stderr.write('\n');
      if (json) {
        printJson(result);
        return 0;
      }
      const fallbacks = result.tensors.filter((t) => t.fallback).length;
      process.stdout.write(
        `${output}: ${result.fileType}, ${result.tensors.length} tensors, ${mib(result.inputBytes)} -> ${mib(result.outputBytes)} in ${result.seconds.toFixed(2)} s` +
          (fallbacks ? ` (${fallbacks} tensor(s) fell back to another type: rows not a multiple of the block)` : '') +
          `\ntensor types: ${tensorTypeCounts(result.tensors.map((t) => ggmlTypeName(t.type)))}\n`,
      );
      return 0;
    });
  },
};
