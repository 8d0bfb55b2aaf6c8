import { push } from '../registry/push.js';
import { abortOnInterrupt, transferOutput } from './transferProgress.js';
import { integerFlag, parseCommandArgs, UsageError, type Command } from './usage.js';

export const pushCommand: Command = {
  name: 'push',
  summary: 'upload a model from the store to its registry (skips and mounts what the registry has)',
  usage: 'gguf-forge push NAME [--insecure] [--models DIR] [--concurrency N] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { insecure: { type: 'boolean' }, models: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
      pushCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${pushCommand.usage}`,
          '',
          `${pushCommand.summary}.`,
          'NAME is the model in the store, [host/][namespace/]model[:tag]; its host is the registry (use `cp` to rename first).',
          'Blobs the registry has are skipped, layers inherited `from` another model there are mounted,',
          'the rest is sent in chunks that resume at the registry\'s offset after a failure.',
          '',
          '  --insecure       allow http:// and unverified TLS (a local registry)',
          '  --models DIR     the store (default $OLLAMA_MODELS, else ~/.ollama/models)',
          '  --concurrency N  parallel transfers (default 16)',
          '  --json           progress events and the result as JSON lines on stdout',
          '',
          'Credentials: GGUF_FORGE_REGISTRY_USER and GGUF_FORGE_REGISTRY_PASSWORD (Basic, or for a token service);',
          'for Ollama\'s registry the key ~/.ollama/id_ed25519 signs token requests (register its .pub at ollama.com).',
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one model name\nUsage: ${pushCommand.usage}`);
    const name = positionals[0] as string;
    const json = values.json === true;
    const output = transferOutput({ json, tty: !json && process.stderr.isTTY === true });
    const controller = new AbortController();
    const stopListening = abortOnInterrupt(controller, 'push');
    const concurrency = integerFlag(values.concurrency, 'concurrency', 1);
    try {
      const result = await push(name, {
        insecure: values.insecure === true,
        signal: controller.signal,
        ...(typeof values.models === 'string' ? { store: values.models } : {}),
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(output.onProgress === undefined ? {} : { onProgress: output.onProgress }),
      });
      output.finish();
      const summary = {
        model: `${result.name.host}/${result.name.namespace}/${result.name.model}:${result.name.tag}`,
        digest: result.digest,
        blobs: result.blobs.map(({ digest, size, outcome, bytesSent, sessions, resumes }) => ({ digest, size, outcome, bytesSent, sessions, resumes })),
      };
      if (json) process.stdout.write(`${JSON.stringify({ status: 'pushed', ...summary })}\n`);
      else {
        const count = (o: string) => result.blobs.filter((b) => b.outcome === o).length;
        process.stdout.write(`pushed ${summary.model} (id ${result.digest.slice(0, 12)}): ${count('uploaded')} uploaded, ${count('mounted')} mounted, ${count('skipped')} already there\n`);
      }
      return 0;
    } finally {
      output.finish();
      stopListening();
    }
  },
};
