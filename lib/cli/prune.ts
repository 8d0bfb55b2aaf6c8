import { humanBytes } from '../create/ollamaFormat.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

/** `90s`, `30m`, `1h`, `0` → milliseconds. */
function duration(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const match = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim()) : null;
  if (match === null) throw new UsageError(`--grace must be a duration such as 0, 90s, 30m or 1h, got '${String(value)}'`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'delete blobs no model uses and stray temp files older than the grace period (1 h)',
  usage: 'gguf-forge prune [--dry-run] [--grace DURATION] [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { 'dry-run': { type: 'boolean' }, grace: { type: 'string' }, json: { type: 'boolean' }, ...MODELS_OPTION }, pruneCommand);
    if (values.help) {
      process.stdout.write(
        `Usage: ${pruneCommand.usage}\n\n${pruneCommand.summary}, as Ollama does at start-up; then empty manifest folders.\n` +
          `Files younger than --grace (default 1h) are kept: a create writes its blobs before its manifest.\n--dry-run lists exactly what would be deleted. ${MODELS_HELP}\n`,
      );
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`prune takes no arguments\nUsage: ${pruneCommand.usage}`);
    const gracePeriodMs = duration(values.grace);
    const store = await storeFromFlag(values.models);
    const report = await store.prune({ dryRun: values['dry-run'] === true, ...(gracePeriodMs === undefined ? {} : { gracePeriodMs }) });
    if (values.json) {
      printJson(report);
      return 0;
    }
    const verb = report.dryRun ? 'would delete' : 'deleted';
    const lines = [
      ...report.blobs.map((b) => `${verb} blob ${b.digest} (${humanBytes(b.size)})`),
      ...report.temps.map((t) => `${verb} temp file ${t.path} (${humanBytes(t.size)})`),
      ...report.dirs.map((d) => `${verb} empty folder ${d}`),
      ...report.unparsableManifests.map((m) => `kept every blob named in ${m}, which does not parse`),
      `${report.dryRun ? 'would free' : 'freed'} ${humanBytes(report.bytes)}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};
