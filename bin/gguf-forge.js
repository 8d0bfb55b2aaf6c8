#!/usr/bin/env node
// Thin launcher: the CLI is compiled from lib/cli to dist/cli (npm install runs `prepare`, which builds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('gguf-forge: dist/ is missing; run `npm run build:ts` in the package folder (npm install does this through `prepare`).\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
