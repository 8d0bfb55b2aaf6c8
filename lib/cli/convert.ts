import { SUPPORTED_ARCHITECTURES } from '../convert/architectures.js';
import { convertModel, type ConvertProgress } from '../convert/convertModel.js';
import { convertAdapter, isAdapterDirectory } from '../lora/convertAdapter.js';
import { interruptible, mib, tensorTypeCounts, writeTensorProgress } from './tensorJob.js';
import { integerFlag, parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a Hugging Face safetensors model directory to GGUF as convert_hf_to_gguf.py does',
  usage: 'gguf-forge convert HF_DIR OUT.gguf [--outtype f32|f16|bf16|q8_0|auto|TYPE] [--base BASE] [--model-name NAME] [--pre-tokenizer NAME] [--threads N] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        outtype: { type: 'string' },
        'model-name': { type: 'string' },
        'pre-tokenizer': { type: 'string' },
        base: { type: 'string' },
        'ignore-base-model-name': { type: 'boolean' },
        threads: { type: 'string' },
        json: { type: 'boolean' },
      },
      convertCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${convertCommand.usage}`,
          '',
          'Writes the GGUF llama.cpp\'s convert_hf_to_gguf.py writes for the model (keys, tensor names, order, types and bytes).',
          '--outtype: f32, f16 (default), bf16, q8_0 or auto as the converter; or a llama-quantize TYPE (Q4_0 Q4_1 Q5_0 Q5_1 Q2_K',
          'Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K IQ4_NL IQ4_XS) for the file `--outtype f16` then llama-quantize',
          'would give, in one pass without the F16 file.',
          `Architectures: ${SUPPORTED_ARCHITECTURES.join(', ')}.`,
          'HF_DIR may also be a LoRA adapter directory (PEFT adapter_config.json + adapter_model.safetensors, or MLX adapters.safetensors):',
          'it becomes a GGUF LoRA as convert_lora_to_gguf.py writes it (--outtype f32 by default, f16, bf16, q8_0, auto),',
          'checked first against --base BASE: the base model as a GGUF file or a directory with config.json.',
          'The file appears at OUT only when complete.',
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`expected HF_DIR OUT, got ${positionals.length} argument(s)\nUsage: ${convertCommand.usage}`);
    const [input, output] = positionals as [string, string];
    const json = values.json === true;
    const tty = !json && process.stderr.isTTY;
    return interruptible(async (signal) => {
      if (isAdapterDirectory(input)) {
        const result = await convertAdapter(input, output, {
          base: typeof values.base === 'string' ? values.base : undefined,
          outType: typeof values.outtype === 'string' ? values.outtype : undefined,
          name: typeof values['model-name'] === 'string' ? values['model-name'] : undefined,
          ignoreBaseModelName: values['ignore-base-model-name'] === true,
          threads: integerFlag(values.threads, 'threads', 1),
          signal,
        });
        if (json) printJson({ ...result, metadata: result.metadata.map((m) => m.key) });
        else {
          process.stdout.write(
            `${output}: ${result.format} LoRA adapter -> ${result.architecture} GGUF LoRA (alpha ${result.alpha}), ${result.outType}, ${result.tensors.length} tensors, ${mib(result.outputBytes)} in ${result.seconds.toFixed(2)} s\n`,
          );
        }
        return 0;
      }
      if (values.base !== undefined) throw new UsageError(`--base applies to adapter directories; ${input} is not one`);
      const result = await convertModel(input, output, {
        outType: typeof values.outtype === 'string' ? values.outtype : undefined,
        name: typeof values['model-name'] === 'string' ? values['model-name'] : undefined,
        preTokenizer: typeof values['pre-tokenizer'] === 'string' ? values['pre-tokenizer'] : undefined,
        threads: integerFlag(values.threads, 'threads', 1),
        signal,
        onProgress: tty
          ? (p: ConvertProgress) => {
              if (p.name) writeTensorProgress(p, mib(p.bytesWritten));
            }
          : undefined,
      });
      if (tty) process.stderr.write('\n');
      if (json) {
        printJson({ ...result, metadata: result.metadata.map((m) => m.key) });
        return 0;
      }
      process.stdout.write(
        `${output}: ${result.hfArchitecture} -> ${result.architecture}, ${result.outType}, ${result.tensors.length} tensors, ${mib(result.outputBytes)} in ${result.seconds.toFixed(2)} s\n` +
          `tensor types: ${tensorTypeCounts(result.tensors.map((t) => t.type))}\n`,
      );
      return 0;
    });
  },
};
