import { pull } from '../registry/pull.js';
import { abortOnInterrupt, transferOutput } from './transferProgress.js';
import { integerFlag, parseCommandArgs, UsageError, type Command } from './usage.js';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'download a model from a registry into the store (resumable, verified)',
  usage: 'gguf-forge pull NAME [--insecure] [--models DIR] [--concurrency N] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      argv,
      { insecure: { type: 'boolean' }, models: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
      pullCommand,
    );
    if (values.help) {
      process.stdout.write(
        [
          `Usage: ${pullCommand.usage}`,
          '',
          `${pullCommand.summary}.`,
          'NAME is [host/][namespace/]model[:tag] (default host registry.ollama.ai, namespace library, tag latest).',
          'Blobs already in the store are skipped; an interrupted pull resumes from its partial files.',
          '',
          '  --insecure       allow http:// and unverified TLS (a local registry)',
          '  --models DIR     the store (default $OLLAMA_MODELS, else ~/.ollama/models)',
          '  --concurrency N  parallel transfers (default 16)',
          '  --json           progress events and the result as JSON lines on stdout',
          '',
          'Credentials: GGUF_FORGE_REGISTRY_USER and GGUF_FORGE_REGISTRY_PASSWORD (Basic, or for a token service);',
          'for Ollama\'s registry the key ~/.ollama/id_ed25519 signs token requests, as Ollama does.',
          '',
        ].join('\n'),
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected one model name\nUsage: ${pullCommand.usage}`);
    const name = positionals[0] as string;
    const json = values.json === true;
    const output = transferOutput({ json, tty: !json && process.stderr.isTTY === true });
    const controller = new AbortController();
    const stopListening = abortOnInterrupt(controller, 'pull');
    const concurrency = integerFlag(values.concurrency, 'concurrency', 1);
    try {
      const result = await pull(name, {
        insecure: values.insecure === true,
        signal: controller.signal,
        ...(typeof values.models === 'string' ? { store: values.models } : {}),
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(output.onProgress === undefined ? {} : { onProgress: output.onProgress }),
      });
      output.finish();
      const fetched = result.blobs.filter((b) => b.outcome === 'downloaded');
      const summary = {
        model: `${result.name.host}/${result.name.namespace}/${result.name.model}:${result.name.tag}`,
        digest: result.digest,
        blobs: result.blobs.map(({ digest, size, outcome, bytesTransferred, resumedBytes }) => ({ digest, size, outcome, bytesTransferred, resumedBytes })),
        removedBlobs: result.removedBlobs,
      };
      if (json) process.stdout.write(`${JSON.stringify({ status: 'pulled', ...summary })}\n`);
      else {
        const bytes = fetched.reduce((s, b) => s + b.bytesTransferred, 0);
        process.stdout.write(`pulled ${summary.model} (id ${result.digest.slice(0, 12)}): ${fetched.length} blob(s) downloaded (${bytes} bytes), ${result.blobs.length - fetched.length} already in the store\n`);
      }
      return 0;
    } finally {
      output.finish();
      stopListening();
    }
  },
};
