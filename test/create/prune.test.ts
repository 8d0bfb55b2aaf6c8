// `prune --dry-run` lists exactly the blobs no manifest names (computed here independently, by reading
// the manifest files), respects the grace period, deletes nothing; `prune` then removes exactly those
// and the temp files, and every model still verifies.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create } from '../../lib/create/create.js';
import { openStore } from '../../lib/store/store.js';
import { runCli } from '../cli/cliRunner.js';
import { sharedDataAvailable } from '../sharedData.js';
import { blobFiles, sha256, tempDir, TINY_GGUF } from './fixtures.js';

/** Digests named by the manifest files under root, read with JSON.parse (not the store's code). */
function referenced(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (depth === 3) {
        const manifest = JSON.parse(readFileSync(path, 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
        for (const layer of [manifest.config, ...manifest.layers]) out.add(layer.digest);
      }
    }
  };
  walk(join(root, 'manifests'), 0);
  return out;
}

describe.skipIf(!sharedDataAvailable)('prune', () => {
  it('--dry-run lists exactly the unreferenced blobs; prune removes exactly them and the temps', async () => {
    const dir = tempDir('prune');
    const root = join(dir, 'models');
    await create('a', { modelfile: `FROM ${TINY_GGUF}\nSYSTEM a\n`, models: root });
    await create('b', { modelfile: 'FROM a\nSYSTEM b\nLICENSE shared\n', models: root });
    // Replaced without Ollama's cleanup: a's old system and config blobs lose their last reference.
    await create('a', { modelfile: `FROM ${TINY_GGUF}\nSYSTEM a2\nLICENSE shared\n`, models: root, env: { OLLAMA_NOPRUNE: '1' } });
    // A create that stops before its manifest: its new blobs are stored but never named.
    const controller = new AbortController();
    await expect(
      create('c', {
        modelfile: `FROM ${TINY_GGUF}\nSYSTEM never written\n`,
        models: root,
        signal: controller.signal,
        onProgress: (p) => p.status === 'writing manifest' && controller.abort(new Error('stop')),
      }),
    ).rejects.toThrow('stop');
    const store = await openStore(root);
    // Debris of a killed writer: a stray blob temp and a manifest temp; and a blob some other tool left.
    writeFileSync(join(store.blobsDir, 'sha256-tmp-999-abcdef'), 'partial');
    writeFileSync(join(store.manifestsDir, '.tmp-manifest-999-abcdef'), '{');
    const planted = randomBytes(1000);
    writeFileSync(store.blobPath(sha256(planted)), planted);

    const all = blobFiles(store).filter((f) => /^sha256-[0-9a-f]{64}$/.test(f)).map((f) => `sha256:${f.slice(7)}`);
    const names = referenced(root);
    const expected = all.filter((d) => !names.has(d)).sort();
    expect(expected).toContain(sha256('a'));
    expect(expected).toContain(sha256('never written'));
    expect(expected).toContain(sha256(planted));
    expect(expected).not.toContain(sha256('shared'));
    const before = blobFiles(store);

    // Everything is younger than the default hour: nothing to prune yet.
    const fresh = runCli(['prune', '--dry-run', '--json', '--models', root]);
    expect(fresh.status, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ dryRun: true, blobs: [], temps: [] });

    const dry = runCli(['prune', '--dry-run', '--grace', '0', '--json', '--models', root]);
    const report = JSON.parse(dry.stdout) as { blobs: { digest: string }[]; temps: { path: string }[]; dryRun: boolean };
    expect(report.blobs.map((b) => b.digest).sort()).toEqual(expected);
    expect(report.temps.map((t) => t.path).sort()).toEqual([join(store.blobsDir, 'sha256-tmp-999-abcdef'), join(store.manifestsDir, '.tmp-manifest-999-abcdef')].sort());
    expect(blobFiles(store)).toEqual(before);

    // An hour later the default grace period lets them go, and only them.
    const old = new Date(Date.now() - 2 * 3600_000);
    for (const f of blobFiles(store)) utimesSync(join(store.blobsDir, f), old, old);
    utimesSync(join(store.manifestsDir, '.tmp-manifest-999-abcdef'), old, old);
    const text = runCli(['prune', '--models', root]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout.split('\n').filter((l) => l.startsWith('deleted blob')).map((l) => l.split(' ')[2]).sort()).toEqual(expected);
    expect(blobFiles(store).sort()).toEqual(before.filter((f) => !expected.includes(`sha256:${f.slice(7)}`) && !f.startsWith('sha256-tmp-')).sort());
    const verify = await store.verify();
    expect([verify.ok, verify.unreferencedBlobs, verify.tempFiles]).toEqual([true, [], []]);
    expect((await store.list()).map((m) => m.displayName).sort()).toEqual(['a:latest', 'b:latest']);
    expect(statSync(store.blobPath(sha256('shared'))).isFile()).toBe(true);
  });
});
