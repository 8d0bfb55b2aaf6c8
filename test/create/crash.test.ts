// A killed create leaves a verifiable store: a child process creating models in a loop is killed with
// SIGKILL at random moments, again and again on the same store; after every kill, verify finds no
// manifest naming a missing blob and no blob whose bytes differ from its digest name. What a kill
// leaves behind (temp files, blobs no manifest names yet) is prune's business, and prune clears it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeAvailable } from '../../lib/native.js';
import { openStore } from '../../lib/store/store.js';
import { writeSyntheticLlama } from '../../lib/synthetic/llamaModel.js';
import { repoRoot } from '../sharedData.js';
import { tempDir } from './fixtures.js';
import { mulberry32 } from '../../lib/synthetic/mulberry32.js';

const RUNS = 24;
/** Kill delays after the child says `ready`, uniform in [0, MAX_DELAY_MS): a create here takes ~10–60 ms. */
const MAX_DELAY_MS = 400;


/** Starts the loop, kills it `delay` ms after `ready`; resolves with the last status line it printed. */
function runAndKill(root: string, gguf: string, delay: number): Promise<{ last: string; stderr: string }> {
  const args = ['--import', 'tsx', join(repoRoot, 'test', 'create', 'createLoop.ts'), root, gguf];
  if (nativeAvailable()) args.push(gguf);
  const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (timer === undefined && out.startsWith('ready\n')) timer = setTimeout(() => child.kill('SIGKILL'), delay);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`the create loop exited by itself (code ${code}): ${stderr}`));
      else resolve({ last: out.trimEnd().split('\n').at(-1) ?? '', stderr });
    });
  });
}

describe('crash safety', () => {
  it(`a create killed with SIGKILL at ${RUNS} random moments always leaves a store that verifies`, async () => {
    const dir = tempDir('crash');
    const gguf = join(dir, 'model-f16.gguf');
    await writeSyntheticLlama(gguf, { embd: 256, layers: 1, ff: 512, vocab: 288, seed: 11 });
    const root = join(dir, 'models');
    const seed = Date.now() % 100_000;
    const random = mulberry32(seed); // the delays are reproducible from the printed seed
    const lastStatuses: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const delay = Math.floor(random() * MAX_DELAY_MS);
      const { last } = await runAndKill(root, gguf, delay);
      lastStatuses.push(last);
      const report = await (await openStore(root)).verify();
      expect(report.problems, `run ${run} (seed ${seed}, killed ${delay} ms in, after "${last}")`).toEqual([]);
      expect(report.ok).toBe(true);
    }
    // The kills landed inside creates, not only between them.
    expect(lastStatuses.filter((s) => s !== 'success' && s !== 'ready').length, lastStatuses.join(' | ')).toBeGreaterThan(0);

    // What the kills left is prune's to remove; afterwards nothing is left over and every model still reads.
    const store = await openStore(root);
    const models = await store.list();
    await store.prune({ gracePeriodMs: 0 });
    const after = await store.verify();
    expect(after.problems).toEqual([]);
    expect(after.unreferencedBlobs).toEqual([]);
    expect(after.tempFiles).toEqual([]);
    expect((await store.list()).map((m) => m.digest)).toEqual(models.map((m) => m.digest));
  });
});
