// Eight creates at once into one store — four to one name in different spellings, four to other
// names, some copying and some linking the same GGUF — all succeed and the store verifies. Once
// inside one process (one API user), once as eight CLI processes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create, type CreateResult } from '../../lib/create/create.js';
import { openStore } from '../../lib/store/store.js';
import { writeSyntheticLlama } from '../../lib/synthetic/llamaModel.js';
import { repoRoot } from '../sharedData.js';
import { blobFiles, tempDir } from './fixtures.js';

const NAMES = ['same', 'SAME', 'same:latest', 'library/same', 'one', 'two:t', 'ns/three', 'hf.co/a/four:q'];
/**
 * Across processes the spellings are ones that parse to the same path: two processes that both find no
 * `same` yet would each keep their own letter case (Ollama's getExistingName has the same race).
 */
const CLI_NAMES = ['same', 'registry.ollama.ai/library/same:latest', 'same:latest', 'library/same', 'one', 'two:t', 'ns/three', 'hf.co/a/four:q'];
const OTHERS = ['hf.co/a/four:q', 'ns/three:latest', 'one:latest', 'two:t'];

/**
 * `sameModel` is the name the four "same" creates reported. In one process `same` and `SAME` race, and
 * like Ollama's getExistingName the first manifest written fixes the spelling; every later create must
 * reuse it, so all four report one spelling and `list` shows exactly that one.
 */
async function expectHealthy(root: string, sameDigests: string[], sameModels: string[]): Promise<void> {
  expect(new Set(sameModels).size).toBe(1);
  const sameModel = sameModels[0] as string;
  expect(['same:latest', 'SAME:latest']).toContain(sameModel);
  const store = await openStore(root);
  const report = await store.verify();
  expect(report.problems).toEqual([]);
  expect(report.tempFiles).toEqual([]);
  expect((await store.list()).map((m) => m.displayName).sort()).toEqual([...OTHERS, sameModel].sort());
  // The four writes to "same" each replaced the file whole: it holds exactly one writer's bytes.
  const same = readFileSync(join(root, 'manifests', 'registry.ollama.ai', 'library', sameModel.split(':')[0] as string, 'latest'));
  expect(sameDigests).toContain(createHash('sha256').update(same).digest('hex'));
  // Blobs no manifest names can only be the system and config blobs of "same" writes that were replaced.
  expect(report.unreferencedBlobs.length).toBeLessThanOrEqual(3 * 2);
}

describe('eight concurrent creates into one store', () => {
  it('in one process', async () => {
    const dir = tempDir('concurrent');
    const gguf = join(dir, 'model.gguf');
    await writeSyntheticLlama(gguf, { embd: 64, heads: 4, layers: 1, ff: 128, vocab: 288, seed: 5 });
    const root = join(dir, 'models');
    const results: CreateResult[] = await Promise.all(
      NAMES.map((name, i) => create(name, { modelfile: `FROM ${gguf}\nSYSTEM writer ${i}\nPARAMETER seed 7\n`, models: root, link: i % 2 === 1 })),
    );
    expect(new Set(results.slice(0, 4).map((r) => r.manifestPath)).size).toBe(1);
    await expectHealthy(root, results.slice(0, 4).map((r) => r.digest), results.slice(0, 4).map((r) => r.model));
    // One model blob for all eight, whichever way each imported it.
    const store = await openStore(root);
    expect(blobFiles(store).filter((f) => f === `sha256-${results[0]?.layers[0]?.digest.slice(7)}`)).toHaveLength(1);
  });

  it('as eight CLI processes', async () => {
    const dir = tempDir('concurrent-cli');
    const gguf = join(dir, 'model.gguf');
    await writeSyntheticLlama(gguf, { embd: 64, heads: 4, layers: 1, ff: 128, vocab: 288, seed: 6 });
    const root = join(dir, 'models');
    const runs = CLI_NAMES.map((name, i) => {
      const modelfile = join(dir, `Modelfile.${i}`);
      writeFileSync(modelfile, `FROM ${gguf}\nSYSTEM writer ${i}\nPARAMETER seed 7\n`);
      const args = ['--import', 'tsx', join(repoRoot, 'test', 'cli', 'cliEntry.ts'), 'create', name, '-f', modelfile, '--models', root, '--json', ...(i % 2 ? ['--link'] : [])];
      const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
      child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
    });
    const done = await Promise.all(runs);
    for (const [i, run] of done.entries()) expect(run.code, `${CLI_NAMES[i]}: ${run.stderr}`).toBe(0);
    const finals = done.map((run) => JSON.parse(run.stdout.trimEnd().split('\n').at(-1) as string) as { status: string; digest: string; model: string });
    expect(finals.every((f) => f.status === 'success')).toBe(true);
    await expectHealthy(root, finals.slice(0, 4).map((f) => f.digest), finals.slice(0, 4).map((f) => f.model));
  });
});
