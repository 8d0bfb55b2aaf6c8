// `gguf-forge create` FROM a ~2 GB GGUF without -q beside what it must at least do:
//   create          vs `cp` of the same file (and `cp` + `sync`, since a blob is fsynced before it
//                   is named), goal <= 1.2x;
//   create --link   vs hashing the file alone with node's sha256 (4 MiB reads), goal <= 1.2x.
// Each command runs as a child process, grouped by command after a warm-up (bench/childTiming.ts);
// the store is emptied after every run. --cold drops the model from the page cache before every run
// (dd iflag=nocache), as for a large model that was not just read: then the disk sets the pace.
// Run: npx tsx bench/createImport.bench.ts [--model F] [--rounds N] [--cold]
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticLlama } from '../lib/synthetic/llamaModel.js';
import { timeCommand, timeGroup } from './childTiming.js';
import { TINYLLAMA } from './modelQuantize.bench.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Reads and hashes a file as plainly as node allows: 4 MiB positional reads into one buffer. */
const HASH_ONLY = `const fs = require('node:fs'); const h = require('node:crypto').createHash('sha256');
const fd = fs.openSync(process.argv[1], 'r'); const b = Buffer.allocUnsafe(4 << 20); let n;
while ((n = fs.readSync(fd, b, 0, b.length, null)) > 0) h.update(b.subarray(0, n));
console.log(h.digest('hex'));`;

export async function createImportBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { model: { type: 'string' }, rounds: { type: 'string' }, cold: { type: 'boolean' } } });
  const rounds = Number(values.rounds ?? 3);
  const model = values.model ?? join(tmpdir(), 'gguf-forge-bench-llama-1.1b-f16.gguf');
  if (!existsSync(model)) {
    console.error(`generating ${model} (1.1 B parameters, F16) once…`);
    await writeSyntheticLlama(model, TINYLLAMA);
  }
  const cli = join(root, 'bin', 'gguf-forge.js');
  if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  // Beside the model, so --link can hard-link (same file system) and cp copies within one disk.
  const work = mkdtempSync(join(dirname(model), 'gguf-forge-create-bench-'));
  try {
    const store = join(work, 'models');
    const copy = join(work, 'copy.gguf');
    const modelfile = join(work, 'Modelfile');
    writeFileSync(modelfile, `FROM ${model}\n`);
    console.log(`model ${model}: ${(statSync(model).size / 1e9).toFixed(2)} GB; ${rounds} timed runs per command; page cache ${values.cold ? 'cold' : 'warm'}`);
    // Every command alike: the model in the page cache, or (--cold) evicted from it before each run.
    const prepare = values.cold ? () => execFileSync('dd', [`if=${model}`, 'iflag=nocache', 'count=0', 'status=none']) : () => undefined;
    if (!values.cold) execFileSync('sh', ['-c', `cat ${model} > /dev/null`]);

    const copyRun = (sync: boolean) => () => {
      prepare();
      const t = timeCommand('sh', ['-c', sync ? `cp ${model} ${copy} && sync ${copy}` : `cp ${model} ${copy}`]);
      rmSync(copy, { force: true });
      return t;
    };
    const createRun = (link: boolean) => () => {
      prepare();
      const t = timeCommand(process.execPath, [cli, 'create', 'bench', '-f', modelfile, '--models', store, ...(link ? ['--link'] : [])]);
      rmSync(store, { recursive: true, force: true });
      return t;
    };
    const cp = timeGroup('cp', rounds, copyRun(false));
    const cpSync = timeGroup('cp+sync', rounds, copyRun(true));
    const create = timeGroup('gguf-forge create', rounds, createRun(false));
    const hash = timeGroup('node sha256 alone', rounds, () => {
      prepare();
      return timeCommand(process.execPath, ['-e', HASH_ONLY, model]);
    });
    const link = timeGroup('gguf-forge create --link', rounds, createRun(true));
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
    console.log(`\nmedians: cp ${cp.median.toFixed(2)} s, cp+sync ${cpSync.median.toFixed(2)} s, create ${create.median.toFixed(2)} s, node sha256 ${hash.median.toFixed(2)} s, create --link ${link.median.toFixed(2)} s`);
    console.log(`create / cp        ${ratio(create.median, cp.median)} (goal <= 1.2x)`);
    console.log(`create / cp+sync   ${ratio(create.median, cpSync.median)}`);
    console.log(`--link / sha256    ${ratio(link.median, hash.median)} (goal <= 1.2x)`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await createImportBenchMain(process.argv.slice(2));
}
