// gguf-forge pull / push as a user runs them: a child process, exit codes, --json lines, Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferOutput } from '../../lib/cli/transferProgress.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore, type ModelStore } from '../../lib/store/store.js';
import { repoRoot } from '../sharedData.js';
import { startFaultProxy, type FaultProxy } from './faultProxy.js';
import { ggufLayer, patternBytes, removeTempDirs, tempDir, writeModel } from './models.js';
import { missingReason, startRegistry, type RunningRegistry } from './registryServer.js';

if (missingReason) console.warn(`skipping CLI pull/push against a registry: ${missingReason}`);

const entry = join(repoRoot, 'test', 'registry', 'cliEntry.ts');
const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });

/** Like run(), without blocking this process (whose proxy the child may be talking to). */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

afterAll(() => removeTempDirs());

describe('progress output', () => {
  it('draws one bar per blob on a terminal and redraws in place', () => {
    const err = new PassThrough();
    let text = '';
    err.on('data', (d: Buffer) => (text += d.toString()));
    const output = transferOutput({ json: false, tty: true }, process.stdout, err as unknown as NodeJS.WriteStream);
    const digest = `sha256:${'ab'.repeat(32)}`;
    output.onProgress?.({ status: 'pulling manifest' });
    output.onProgress?.({ status: `pulling ${digest.slice(7, 19)}`, digest, total: 2_000_000, completed: 0 });
    output.onProgress?.({ status: `pulling ${digest.slice(7, 19)}`, digest, total: 2_000_000, completed: 2_000_000, outcome: 'downloaded' });
    output.finish();
    expect(text).toContain('pulling abababababab 100% ▕████████████████████████▏ 2.0 MB/2.0 MB');
    expect(text).toContain('\x1b[2F'); // cursor back over the two rows before redrawing
  });
});

describe('usage', () => {
  it('a missing name is a usage error (exit 2); --help exits 0', () => {
    const bad = run(['pull']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/expected one model name/);
    const help = run(['push', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gguf-forge push NAME/);
  });
});

describe.skipIf(missingReason !== undefined)('gguf-forge push / pull against docker-registry', () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let store: ModelStore;
  let name: string;

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.origin);
    store = await openStore(tempDir('cli-source'));
    name = `${registry.host}/cli/model:v1`;
    await writeModel(store, name, await ggufLayer(store, { seed: 31 }));
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it('push --json prints only JSON lines: progress events, then the result', () => {
    const result = run(['push', name, '--insecure', '--models', store.root, '--json']);
    expect(result.status, result.stderr).toBe(0);
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; outcome?: string; blobs?: Array<{ outcome: string }> });
    expect(lines[0]?.status).toBe('retrieving manifest');
    expect(lines.some((l) => l.outcome === 'uploaded')).toBe(true);
    expect(lines.at(-2)?.status).toBe('success');
    expect(lines.at(-1)?.status).toBe('pushed');
    expect(lines.at(-1)?.blobs?.every((b) => b.outcome === 'uploaded')).toBe(true);
  });

  it('pull into --models prints a summary; failures exit 1 with the error code', () => {
    const target = tempDir('cli-pull');
    const ok = run(['pull', name, '--insecure', '--models', target]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^pulled 127\.0\.0\.1:\d+\/cli\/model:v1 \(id [0-9a-f]{12}\): 4 blob\(s\) downloaded/);
    const missing = run(['pull', `${registry.host}/cli/none:v1`, '--insecure', '--models', target]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\[ERR_REGISTRY_NOT_FOUND\]/);
  });

  it('Ctrl-C stops a pull with a resumable state; the same command then finishes it', async () => {
    const big = `${registry.host}/cli/big:v1`;
    const blob = await store.putBlob(patternBytes(24 << 20, 5));
    await writeModel(store, big, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size });
    expect(run(['push', big, '--insecure', '--models', store.root]).status).toBe(0);
    const target = tempDir('cli-interrupt');
    const viaProxy = big.replace(registry.host, proxy.host);
    // The blob stalls after 8 MB, long enough to press Ctrl-C.
    proxy.setPlan((r) => (r.method === 'GET' && r.path.includes(blob.digest) ? { kind: 'stall-response', afterBytes: 8 << 20, ms: 20_000 } : undefined));
    const child = spawn(process.execPath, ['--import', 'tsx', entry, 'pull', viaProxy, '--insecure', '--models', target, '--json', '--concurrency', '1'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for await (const text of createInterface({ input: child.stdout })) {
      const event = JSON.parse(text) as { digest?: string; completed?: number };
      if (event.digest === blob.digest && (event.completed ?? 0) >= 4 << 20) {
        child.kill('SIGINT');
        break;
      }
    }
    expect(await exited).toBe(1);
    expect(stderr).toMatch(/pull interrupted; run the same command again to resume/);
    proxy.setPlan(() => undefined);
    const again = await runAsync(['pull', viaProxy, '--insecure', '--models', target, '--json']);
    expect(again.status, again.stderr).toBe(0);
    const final = JSON.parse(again.stdout.trim().split('\n').at(-1) as string) as { blobs: Array<{ digest: string; resumedBytes: number }> };
    expect(final.blobs.find((b) => b.digest === blob.digest)?.resumedBytes).toBeGreaterThanOrEqual(4 << 20);
    expect((await (await openStore(target)).verify()).ok).toBe(true);
  });
});
