// Entry point of the `gguf-forge` bin: one module per command, exit 0 ok, 1 failure, 2 usage.
import { packageVersion } from '../version.js';
import { benchCommand } from './bench.js';
import { convertCommand } from './convert.js';
import { cpCommand } from './cp.js';
import { createCommand } from './create.js';
import { infoCommand } from './info.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';
import { mergeLoraCommand } from './merge-lora.js';
import { pruneCommand } from './prune.js';
import { pullCommand } from './pull.js';
import { pushCommand } from './push.js';
import { quantizeCommand } from './quantize.js';
import { rmCommand } from './rm.js';
import { showCommand } from './show.js';
import { UsageError, type Command } from './usage.js';
import { verifyCommand } from './verify.js';

const commands: Command[] = [
  inspectCommand,
  infoCommand,
  quantizeCommand,
  convertCommand,
  mergeLoraCommand,
  createCommand,
  listCommand,
  showCommand,
  cpCommand,
  rmCommand,
  pruneCommand,
  verifyCommand,
  pullCommand,
  pushCommand,
  benchCommand,
];

function help(): string {
  // Names and summaries only: the usages are long; each command's --help prints its own.
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `gguf-forge ${packageVersion}: GGUF files, quantization and Ollama-compatible model stores`,
    '',
    'Usage: gguf-forge COMMAND [ARGS] [--json]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run gguf-forge COMMAND --help for its arguments.',
    '',
  ].join('\n');
}

function errorDetails(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && !err.message.includes(code) ? `${err.message} [${code}]` : err.message;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageVersion}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`gguf-forge: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`gguf-forge ${command.name}: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`gguf-forge ${command.name}: ${errorDetails(err)}\n`);
    if (process.env.GGUF_FORGE_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
