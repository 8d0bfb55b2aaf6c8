import { MODELS_HELP, MODELS_OPTION, storeFromFlag } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';
import { displayShortest } from '../store/names.js';

export const cpCommand: Command = {
  name: 'cp',
  summary: 'copy a model to a second name (the manifest only; blobs are shared)',
  usage: 'gguf-forge cp SOURCE DESTINATION [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, ...MODELS_OPTION }, cpCommand);
    if (values.help) {
      process.stdout.write(`Usage: ${cpCommand.usage}\n\n${cpCommand.summary}. ${MODELS_HELP}\n`);
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`expected SOURCE and DESTINATION, got ${positionals.length} argument(s)\nUsage: ${cpCommand.usage}`);
    const [source, destination] = positionals as [string, string];
    const store = await storeFromFlag(values.models);
    const copied = await store.copy(source, destination);
    if (values.json) printJson({ source: displayShortest(copied.source), destination: displayShortest(copied.destination) });
    else process.stdout.write(`copied '${source}' to '${destination}'\n`);
    return 0;
  },
};
