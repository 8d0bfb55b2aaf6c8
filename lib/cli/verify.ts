import { humanBytes } from '../create/ollamaFormat.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 're-hash every blob and check every manifest reference (exit 1 on a problem)',
  usage: 'gguf-forge verify [--no-rehash] [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'no-rehash': { type: 'boolean' }, json: { type: 'boolean' }, ...MODELS_OPTION }, verifyCommand);
    if (values.help) {
      process.stdout.write(
        `Usage: ${verifyCommand.usage}\n\n${verifyCommand.summary}. Problems: a blob whose bytes do not hash to its name, a manifest naming\n` +
          `a missing blob or the wrong size, a manifest that does not parse. Unreferenced blobs and temp files are listed, not\nproblems (prune removes them). --no-rehash checks sizes only. ${MODELS_HELP}\n`,
      );
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`verify takes no arguments\nUsage: ${verifyCommand.usage}`);
    const store = await storeFromFlag(values.models);
    const report = await store.verify({ rehash: values['no-rehash'] !== true });
    if (values.json) {
      printJson(report);
      return report.ok ? 0 : 1;
    }
    const lines = [
      ...report.problems.map((p) => `problem: ${p.message}`),
      ...report.unreferencedBlobs.map((d) => `unreferenced blob ${d}`),
      ...report.tempFiles.map((t) => `temp file ${t}`),
      `${report.ok ? 'ok' : 'FAILED'}: ${report.manifests} manifest(s), ${report.blobs} blob(s), ${humanBytes(report.bytesHashed)} hashed, ${report.problems.length} problem(s)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return report.ok ? 0 : 1;
  },
};
