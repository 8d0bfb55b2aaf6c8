import { parametersText, showJson, showModel, type ModelShow } from '../create/show.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag, table } from './storeOutput.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

/** A block of `ollama show`: two-space header, then rows indented by four. */
function block(header: string, rows: string[][]): string {
  return `  ${header}\n${table(rows.map((r) => ['', ...r]))}\n\n`;
}

/** cmd.go's head(): the first n non-blank lines, trimmed, then `...` when there were more. */
function head(text: string, n: number): string[][] {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  return [...lines.slice(0, n).map((l) => [l]), ...(lines.length > n ? [['...']] : [])];
}

/** cmd.go showInfo, minus what needs a server (capabilities, projector info). */
function showText(shown: ModelShow): string {
  const model: string[][] = [];
  if (shown.architecture) model.push(['architecture', shown.architecture]);
  if (shown.parameters) model.push(['parameters', shown.parameters]);
  if (shown.contextLength !== undefined) model.push(['context length', String(shown.contextLength)]);
  if (shown.embeddingLength !== undefined) model.push(['embedding length', String(shown.embeddingLength)]);
  model.push(['quantization', shown.quantization]);
  if (shown.config?.requires) model.push(['requires', shown.config.requires]);
  let out = block('Model', model);
  if (Object.keys(shown.options).length > 0) {
    out += block('Parameters', parametersText(shown.options).split('\n').map((line) => {
      const key = line.slice(0, 30).trimEnd();
      return [key, line.slice(31)];
    }));
  }
  if (shown.system) out += block('System', head(shown.system, 2));
  if (shown.license.length > 0) out += block('License', head(shown.license.join('\n'), 2));
  return out;
}

export const showCommand: Command = {
  name: 'show',
  summary: 'show a model: architecture, parameters, context and embedding length, quantization, Modelfile',
  usage: 'gguf-forge show NAME [--modelfile | --parameters | --template | --system | --license] [--models DIR] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        modelfile: { type: 'boolean' },
        parameters: { type: 'boolean' },
        template: { type: 'boolean' },
        system: { type: 'boolean' },
        license: { type: 'boolean' },
        json: { type: 'boolean' },
        ...MODELS_OPTION,
      },
      showCommand,
    );
    if (values.help) {
      process.stdout.write(
        `Usage: ${showCommand.usage}\n\n${showCommand.summary}, as ollama show prints them.\n` +
          `--modelfile prints the Modelfile \`ollama show --modelfile\` would (FROM the model blob's path); --json the fields of\n` +
          `Ollama's /api/show (details, model_info, parameters, template, modelfile…). ${MODELS_HELP}\n`,
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one model NAME, got ${positionals.length} argument(s)\nUsage: ${showCommand.usage}`);
    const only = (['modelfile', 'parameters', 'template', 'system', 'license'] as const).filter((k) => values[k] === true);
    if (only.length > 1) throw new UsageError(`--${only.join(' and --')} cannot be combined\nUsage: ${showCommand.usage}`);
    const store = await storeFromFlag(values.models);
    const shown = await showModel(store, positionals[0] as string);
    if (values.json) {
      printJson(showJson(shown));
      return 0;
    }
    switch (only[0]) {
      case 'modelfile':
        process.stdout.write(shown.modelfile);
        return 0;
      case 'parameters':
        process.stdout.write(`${parametersText(shown.options)}\n`);
        return 0;
      case 'template':
        process.stdout.write(`${shown.template ?? ''}\n`);
        return 0;
      case 'system':
        process.stdout.write(`${shown.system ?? ''}\n`);
        return 0;
      case 'license':
        process.stdout.write(`${shown.license.join('\n')}\n`);
        return 0;
    }
    process.stdout.write(showText(shown));
    return 0;
  },
};
