import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { create, type CreateProgress } from '../create/create.js';
import { CreateError } from '../create/errors.js';
import { FILE_TYPE_NAMES } from '../quantize/fileTypes.js';
import { MODELS_HELP, MODELS_OPTION, storeFromFlag, StatusDisplay } from './storeOutput.js';
import { integerFlag, parseCommandArgs, UsageError, type Command } from './usage.js';

/** --json progress events: at most one per percent of a sized step, so a 40 GB copy prints ~100 lines, not 10,000. */
function jsonThrottle(): (p: CreateProgress) => boolean {
  let last = '';
  let lastPercent = -1;
  return (p) => {
    if (p.total === undefined || p.completed === undefined) return true;
    const percent = p.total > 0 ? Math.floor((p.completed / p.total) * 100) : 100;
    if (p.status === last && percent === lastPercent) return false;
    last = p.status;
    lastPercent = percent;
    return true;
  };
}

export const createCommand: Command = {
  name: 'create',
  summary: 'create a model in an Ollama model store from a Modelfile (like ollama create, no server)',
  usage: 'gguf-forge create NAME [-f Modelfile] [-q TYPE] [--models DIR] [--link] [--threads N] [--insecure] [--no-pull] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      {
        file: { type: 'string', short: 'f' },
        quantize: { type: 'string', short: 'q' },
        link: { type: 'boolean' },
        insecure: { type: 'boolean' },
        'no-pull': { type: 'boolean' },
        threads: { type: 'string' },
        json: { type: 'boolean' },
        ...MODELS_OPTION,
      },
      createCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${createCommand.usage}`,
          '',
          'Reads the Modelfile (default ./Modelfile; FROM a GGUF file or an existing model, ADAPTER, TEMPLATE, SYSTEM,',
          'PARAMETER, MESSAGE, LICENSE, REQUIRES) and writes the model NAME (e.g. mymodel, me/mymodel:v1) into the store,',
          'laid out and encoded as Ollama writes it, so `ollama run NAME` serves it from the same folder.',
          '',
          '  -f FILE       the Modelfile',
          `  -q TYPE       quantize an F32/F16/BF16 model first: ${FILE_TYPE_NAMES.join(' ')} (any case)`,
          '  --link        import a GGUF by reflink or hard link where the file system allows, instead of a copy',
          '                (a hard-linked blob shares the file: editing the file in place corrupts the model)',
          '  --threads N   quantization threads',
          '  --json        one JSON event per line on stdout (Ollama\'s /api/create stream), the last with the result',
          '',
          MODELS_HELP,
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one model NAME, got ${positionals.length} argument(s)\nUsage: ${createCommand.usage}`);
    const [name] = positionals as [string];
    const json = values.json === true;

    let modelfilePath = typeof values.file === 'string' ? values.file : 'Modelfile';
    const found = await stat(modelfilePath).catch(() => undefined);
    if (!found?.isFile()) {
      // Ollama silently falls back to `FROM .` here; naming the missing file is more useful.
      throw new CreateError('ERR_CREATE_NO_MODELFILE', `no Modelfile at ${resolve(modelfilePath)}${values.file === undefined ? ' (pass -f FILE)' : ''}`, { path: resolve(modelfilePath) });
    }
    modelfilePath = resolve(modelfilePath);

    const display = new StatusDisplay(process.stdout, !json && process.stderr.isTTY === true);
    const keep = jsonThrottle();
    const onProgress = (p: CreateProgress) => {
      if (json) {
        if (p.status !== 'success' && keep(p)) process.stdout.write(`${JSON.stringify(p)}\n`);
      } else if (p.total !== undefined && p.completed !== undefined) {
        display.bar(p.status, p.completed, p.total);
      } else {
        display.line(p.status);
      }
    };
    const onWarning = (message: string) => {
      if (json) process.stdout.write(`${JSON.stringify({ warning: message })}\n`);
      else {
        display.clear();
        process.stderr.write(`warning: ${message}\n`);
      }
    };

    const controller = new AbortController();
    const onSignal = () => {
      controller.abort(new Error('interrupted'));
      // The create cleans up and rejects at once, but a kernel file copy cannot be cancelled and would
      // keep the process alive until it ends: leave shortly after the error has been reported.
      setTimeout(() => process.exit(1), 1000).unref();
    };
    process.once('SIGINT', onSignal);
    try {
      const result = await create(name, {
        modelfilePath,
        store: await storeFromFlag(values.models),
        ...(typeof values.quantize === 'string' ? { quantize: values.quantize } : {}),
        link: values.link === true,
        // FROM a model the store lacks is pulled first (--insecure: a plain-http registry), as Ollama does.
        pull: values['no-pull'] === true ? false : { insecure: values.insecure === true },
        ...(values.threads === undefined ? {} : { threads: integerFlag(values.threads, 'threads', 1) }),
        signal: controller.signal,
        onProgress,
        onWarning,
      });
      if (json) {
        const { name: _parts, statuses: _statuses, ...rest } = result;
        process.stdout.write(`${JSON.stringify({ status: 'success', ...rest })}\n`);
      }
      return 0;
    } finally {
      display.clear();
      process.removeListener('SIGINT', onSignal);
    }
  },
};
