import { push } from '../registry/push.js';
import { transferCommand } from './transferProgress.js';

export const pushCommand = transferCommand({
  name: 'push',
  summary: 'upload a model from the store to its registry (skips and mounts what the registry has)',
  about: [
    'NAME is the model in the store, [host/][namespace/]model[:tag]; its host is the registry (use `cp` to rename first).',
    'Blobs the registry has are skipped, layers inherited `from` another model there are mounted,',
    "the rest is sent in chunks that resume at the registry's offset after a failure.",
  ],
  keyNote: "for Ollama's registry the key ~/.ollama/id_ed25519 signs token requests (register its .pub at ollama.com).",
  transfer: (name, options) => push(name, options),
  report(result, json) {
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
  },
});
