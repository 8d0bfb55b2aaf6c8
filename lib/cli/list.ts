import { humanBytes, humanTime } from '../create/ollamaFormat.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag, table } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

export const listCommand: Command = {
  name: 'list',
  summary: 'list the models in the store (NAME, ID, SIZE, MODIFIED, as ollama list)',
  usage: 'gguf-forge list [PREFIX] [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' }, ...MODELS_OPTION }, listCommand);
    if (values.help) {
      process.stdout.write(`Usage: ${listCommand.usage}\n\n${listCommand.summary}, newest first; PREFIX keeps the names that start with it (any case).\nID is the first 12 hex digits of the manifest's sha256, SIZE the sum of its blobs. ${MODELS_HELP}\n`);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`expected at most one PREFIX, got ${positionals.length} arguments\nUsage: ${listCommand.usage}`);
    const prefix = positionals[0]?.toLowerCase();
    const store = await storeFromFlag(values.models);
    const models = (await store.list()).filter((m) => prefix === undefined || m.displayName.toLowerCase().startsWith(prefix));
    if (values.json) {
      // /api/tags' field names.
      printJson({ models: models.map((m) => ({ name: m.displayName, model: m.displayName, modified_at: m.modifiedAt.toISOString(), size: m.size, digest: m.digest })) });
      return 0;
    }
    const now = new Date();
    const rows = [['NAME', 'ID', 'SIZE', 'MODIFIED'], ...models.map((m) => [m.displayName, m.id, humanBytes(m.size), humanTime(m.modifiedAt, now)])];
    process.stdout.write(`${table(rows)}\n`);
    return 0;
  },
};
