import { displayShortest } from '../store/names.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

export const rmCommand: Command = {
  name: 'rm',
  summary: 'remove models, and the blobs no other model uses',
  usage: 'gguf-forge rm NAME... [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, ...MODELS_OPTION }, rmCommand);
    if (values.help) {
      process.stdout.write(`Usage: ${rmCommand.usage}\n\n${rmCommand.summary}. ${MODELS_HELP}\n`);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError(`expected at least one model NAME\nUsage: ${rmCommand.usage}`);
    const store = await storeFromFlag(values.models);
    const removed = [];
    for (const name of positionals) {
      const result = await store.remove(name);
      removed.push({ model: displayShortest(result.name), removed_blobs: result.removedBlobs });
      if (!values.json) process.stdout.write(`deleted '${name}'\n`);
    }
    if (values.json) printJson({ deleted: removed });
    return 0;
  },
};
