// A pull in its own process, for tests that kill it: `node --import tsx pullChild.ts NAME STORE_ROOT`.
// Prints every progress event as a JSON line on stdout.
import { pull } from '../../lib/registry/index.js';

const [name, root] = process.argv.slice(2);
if (name === undefined || root === undefined) throw new Error('usage: pullChild.ts NAME STORE_ROOT');
await pull(name, { store: root, insecure: true, progressIntervalMs: 0, onProgress: (p) => process.stdout.write(`${JSON.stringify(p)}\n`) });
