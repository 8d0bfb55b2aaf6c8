import { pull } from '../registry/pull.js';
import { transferCommand } from './transferProgress.js';

export const pullCommand = transferCommand({
  name: 'pull',
  summary: 'download a model from a registry into the store (resumable, verified)',
  about: [
    'NAME is [host/][namespace/]model[:tag] (default host registry.ollama.ai, namespace library, tag latest).',
    'Blobs already in the store are skipped; an interrupted pull resumes from its partial files.',
  ],
  keyNote: "for Ollama's registry the key ~/.ollama/id_ed25519 signs token requests, as Ollama does.",
  transfer: (name, options) => pull(name, options),
  report(result, json) {
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
  },
});
