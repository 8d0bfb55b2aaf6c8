// Pulls and pushes through a fault-injecting proxy in front of a real registry: every seeded scenario
// must end in a correct store / registry or in a clear RegistryError, and never leave a blob whose
// bytes do not match its name. Then the resume guarantees, measured in bytes that crossed the proxy.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pull, push, RegistryError, type TransferProgress } from '../../lib/registry/index.js';
import { MEDIA_TYPES, type Layer } from '../../lib/store/manifest.js';
import { openStore, type ModelStore } from '../../lib/store/store.js';
import { repoRoot } from '../sharedData.js';
import { startFaultProxy, type Fault, type FaultProxy, type ProxyRequest } from './faultProxy.js';
import { ggufLayer, patternBytes, removeTempDirs, tempDir, writeModel } from './models.js';
import { missingReason, startRegistry, type RunningRegistry } from './registryServer.js';
import { mulberry32 } from '../../lib/synthetic/mulberry32.js';

if (missingReason) console.warn(`skipping fault injection: ${missingReason}`);

const SCENARIOS_PER_DIRECTION = 30;
/** Client settings for the scenarios: small parts so faults land mid-transfer, quick retries. */
const scenarioOptions = { insecure: true, retries: 4, retryDelayMs: 2, maxRetryDelayMs: 20, stallTimeoutMs: 250, partSize: 96 * 1024, concurrency: 4, progressIntervalMs: 0 } as const;

interface Tally {
  scenarios: number;
  completed: number;
  clearErrors: number;
  faults: number;
  corrupt: number;
  codes: Record<string, number>;
}

function pickFault(rng: () => number, request: ProxyRequest): Fault {
  const afterBytes = Math.floor(rng() * 160_000);
  const status = [500, 502, 503][Math.floor(rng() * 3)] as number;
  const hasRequestBody = request.method === 'PATCH' || (request.method === 'PUT' && !request.path.includes('digest='));
  const kinds: Fault[] = [
    { kind: 'status', status },
    { kind: 'drop-response', afterBytes },
    { kind: 'truncate-response', afterBytes },
    { kind: 'stall-response', afterBytes, ms: 100 + Math.floor(rng() * 500) },
    { kind: 'flip-response', atByte: afterBytes },
  ];
  if (hasRequestBody) {
    kinds.push({ kind: 'drop-request', afterBytes }, { kind: 'stall-request', afterBytes, ms: 100 + Math.floor(rng() * 500) }, { kind: 'flip-request', atByte: afterBytes % 90_000 });
  }
  return kinds[Math.floor(rng() * kinds.length)] as Fault;
}

function faultPlan(seed: number): (request: ProxyRequest) => Fault | undefined {
  const rng = mulberry32(seed); // a failing scenario replays from its seed
  const rate = 0.1 + rng() * 0.3;
  return (request) => (rng() < rate ? pickFault(rng, request) : undefined);
}

/** Blob files whose content does not hash to their name (verify's corrupt-blob problems). */
async function corruptBlobs(store: ModelStore): Promise<string[]> {
  const report = await store.verify();
  return report.problems.filter((p) => p.kind === 'corrupt-blob').map((p) => p.message);
}

function expectClearError(error: unknown, tally: Tally, context: string): void {
  if (!(error instanceof RegistryError)) throw new Error(`${context}: not a RegistryError: ${String((error as Error)?.stack ?? error)}`);
  expect(error.code, context).toMatch(/^ERR_REGISTRY_[A-Z_]+$/);
  expect(error.message.length, context).toBeGreaterThan(10);
  tally.clearErrors++;
  tally.codes[error.code] = (tally.codes[error.code] ?? 0) + 1;
}

describe.skipIf(missingReason !== undefined)('fault injection between client and registry', () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  let source: ModelStore;
  let baseName: string;
  const tally: Tally = { scenarios: 0, completed: 0, clearErrors: 0, faults: 0, corrupt: 0, codes: {} };

  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.origin);
    source = await openStore(tempDir('faults-source'));
    baseName = `${registry.host}/faults/base:v1`;
    await writeModel(source, baseName, await ggufLayer(source, { embd: 128, ff: 256, seed: 5 }), { system: 'fault injection' });
    await push(baseName, { insecure: true, store: source });
  });
  afterAll(async () => {
    console.log(
      `fault injection tally: ${tally.scenarios} scenarios, ${tally.faults} faults injected, ${tally.completed} completed, ${tally.clearErrors} clear errors ${JSON.stringify(tally.codes)}, ${tally.corrupt} corrupt blobs`,
    );
    await proxy?.close();
    await registry?.stop();
    removeTempDirs();
  });

  it(`${SCENARIOS_PER_DIRECTION} seeded pull scenarios end verified or in a clear error, and a clean retry then completes`, async () => {
    const expected = (await source.readManifest(baseName)).bytes;
    const viaProxy = baseName.replace(registry.host, proxy.host);
    for (let seed = 1; seed <= SCENARIOS_PER_DIRECTION; seed++) {
      const store = await openStore(tempDir(`pull-${seed}`));
      proxy.resetStats();
      proxy.setPlan(faultPlan(seed));
      tally.scenarios++;
      // Odd seeds read bodies with the lean socket reader, even ones through node:http.
      const bulkTransport = seed % 2 === 1;
      try {
        await pull(viaProxy, { ...scenarioOptions, bulkTransport, store });
        tally.completed++;
        expect((await store.readManifest(viaProxy)).bytes.equals(expected), `seed ${seed}`).toBe(true);
        expect((await store.verify()).problems, `seed ${seed}`).toEqual([]);
      } catch (error) {
        expectClearError(error, tally, `pull seed ${seed} (bulk ${bulkTransport}): ${proxy.stats.log.join(' | ')}`);
        expect(await store.list(), `seed ${seed}: a failed pull writes no manifest`).toEqual([]);
      }
      tally.faults += proxy.stats.faults;
      const corrupt = await corruptBlobs(store);
      tally.corrupt += corrupt.length;
      expect(corrupt, `seed ${seed}`).toEqual([]);
      // Whatever the failure left (partial files, part records) must not stop a clean pull.
      proxy.setPlan(() => undefined);
      await pull(viaProxy, { ...scenarioOptions, bulkTransport, store });
      expect((await store.verify()).problems, `seed ${seed} after a clean retry`).toEqual([]);
      expect((await store.readManifest(viaProxy)).bytes.equals(expected)).toBe(true);
    }
  });

  it(`${SCENARIOS_PER_DIRECTION} seeded push scenarios leave the registry with the exact model or nothing, and a clean retry then completes`, async () => {
    const expected = (await source.readManifest(baseName)).bytes;
    for (let seed = 101; seed < 101 + SCENARIOS_PER_DIRECTION; seed++) {
      const direct = `${registry.host}/faults/push${seed}:v1`;
      const viaProxy = direct.replace(registry.host, proxy.host);
      await source.copy(baseName, viaProxy);
      proxy.resetStats();
      proxy.setPlan(faultPlan(seed));
      tally.scenarios++;
      let completed = false;
      try {
        await push(viaProxy, { ...scenarioOptions, store: source });
        completed = true;
        tally.completed++;
      } catch (error) {
        expectClearError(error, tally, `push seed ${seed}: ${proxy.stats.log.join(' | ')}`);
      }
      tally.faults += proxy.stats.faults;
      proxy.setPlan(() => undefined);
      // What the registry now serves under the tag (read directly, no proxy): our bytes, or nothing.
      const res = await fetch(`${registry.origin}/v2/faults/push${seed}/manifests/v1`, { headers: { accept: MEDIA_TYPES.manifest } });
      const served = Buffer.from(await res.arrayBuffer());
      if (completed) expect(res.status, `seed ${seed}`).toBe(200);
      if (res.status === 200) {
        expect(served.equals(expected), `seed ${seed}: the registry serves other manifest bytes`).toBe(true);
        const check = await openStore(tempDir(`push-check-${seed}`));
        await pull(direct, { insecure: true, store: check });
        const corrupt = await corruptBlobs(check);
        tally.corrupt += corrupt.length;
        expect(corrupt, `seed ${seed}`).toEqual([]);
      } else {
        expect(res.status, `seed ${seed}`).toBe(404);
      }
      if (!completed) {
        await push(viaProxy, { ...scenarioOptions, store: source });
        const check = await openStore(tempDir(`push-retry-${seed}`));
        await pull(direct, { insecure: true, store: check });
        expect((await check.verify()).problems, `seed ${seed} after a clean retry`).toEqual([]);
      }
    }
    expect(tally.corrupt).toBe(0);
  });

  it('a blob that arrives with other bytes is deleted, and the error names both digests', async () => {
    const store = await openStore(tempDir('mismatch'));
    proxy.setPlan((r) => (r.method === 'GET' && r.path.includes('/blobs/') ? { kind: 'flip-response', atByte: 3 } : undefined));
    const error = (await pull(baseName.replace(registry.host, proxy.host), { ...scenarioOptions, concurrency: 1, digestRetries: 0, store }).catch((e: unknown) => e)) as RegistryError;
    proxy.setPlan(() => undefined);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.code).toBe('ERR_REGISTRY_DIGEST_MISMATCH');
    expect(error.message).toMatch(/^digest mismatch, file must be downloaded again: want sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/);
    expect(error.expected).not.toBe(error.actual);
    const left = existsSync(store.blobsDir) ? readdirSync(store.blobsDir) : [];
    expect(left.filter((n) => n.includes((error.expected as string).slice(7)))).toEqual([]);
    expect(await corruptBlobs(store)).toEqual([]);
  });

  describe('resume', () => {
    const BIG = 200 * 1000 * 1000;
    let bigName: string;
    let bigLayer: Layer;

    beforeAll(async () => {
      bigName = `${registry.host}/resume/big:v1`;
      const chunk = 8 << 20;
      const writer = await source.createBlobWriter();
      for (let done = 0, i = 0; done < BIG; done += chunk, i++) await writer.write(patternBytes(Math.min(chunk, BIG - done), 1000 + i));
      const blob = await writer.commit();
      bigLayer = { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size };
      await writeModel(source, bigName, bigLayer);
      await push(bigName, { insecure: true, store: source });
    });

    it('a pull killed (SIGKILL) halfway through a 200 MB blob resumes and re-transfers < 60 % of it', async () => {
      const store = await openStore(tempDir('killed'));
      const viaProxy = bigName.replace(registry.host, proxy.host);
      proxy.setPlan(() => undefined);
      proxy.resetStats();
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'registry', 'pullChild.ts'), viaProxy, store.root], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      let killedAt = 0;
      for await (const line of createInterface({ input: child.stdout })) {
        const event = JSON.parse(line) as TransferProgress;
        if (event.digest === bigLayer.digest && (event.completed ?? 0) >= BIG / 2) {
          killedAt = event.completed as number;
          child.kill('SIGKILL');
          break;
        }
      }
      await exited;
      expect(killedAt).toBeGreaterThanOrEqual(BIG / 2);
      const firstRun = proxy.stats.blobBytesServed;
      const partFiles = readdirSync(store.blobsDir).filter((n) => n.startsWith(`sha256-${bigLayer.digest.slice(7)}-partial`));
      expect(partFiles.length).toBeGreaterThan(1); // the data file and its part records

      proxy.resetStats();
      const resumed = await pull(viaProxy, { insecure: true, store });
      const blob = resumed.blobs.find((b) => b.digest === bigLayer.digest);
      const again = proxy.stats.blobBytesServed;
      console.log(`killed pull: first run served ${(firstRun / 1e6).toFixed(1)} MB (client had ${(killedAt / 1e6).toFixed(1)} MB on disk), resume kept ${((blob?.resumedBytes ?? 0) / 1e6).toFixed(1)} MB and fetched ${(again / 1e6).toFixed(1)} MB = ${((100 * again) / BIG).toFixed(1)} % of the blob`);
      expect(again).toBeLessThan(0.6 * BIG);
      expect(blob?.bytesTransferred).toBeLessThan(0.6 * BIG);
      expect(blob?.resumedBytes).toBeGreaterThan(0.4 * BIG);
      const report = await store.verify();
      expect(report.problems).toEqual([]);
      expect(report.tempFiles).toEqual([]);
    });

    it('a pull aborted with its AbortSignal resumes where it stopped', async () => {
      const store = await openStore(tempDir('aborted'));
      const viaProxy = bigName.replace(registry.host, proxy.host);
      proxy.resetStats();
      const controller = new AbortController();
      const error = await pull(viaProxy, {
        insecure: true,
        store,
        signal: controller.signal,
        progressIntervalMs: 0,
        onProgress: (p) => {
          if (p.digest === bigLayer.digest && (p.completed ?? 0) >= BIG * 0.7) controller.abort(new Error('stop here'));
        },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('stop here');
      expect(await store.list()).toEqual([]);
      proxy.resetStats();
      const resumed = await pull(viaProxy, { insecure: true, store });
      expect(proxy.stats.blobBytesServed).toBeLessThan(0.35 * BIG);
      expect(resumed.blobs.find((b) => b.digest === bigLayer.digest)?.resumedBytes).toBeGreaterThanOrEqual(0.65 * BIG);
      expect((await store.verify()).ok).toBe(true);
    });

    it('a push resumes at the offset the registry reports after a chunk fails before reaching it', async () => {
      const name = `${proxy.host}/resume/push:v1`;
      const size = 24 << 20;
      const blob = await source.putBlob(patternBytes(size, 77));
      await writeModel(source, name, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size });
      // The 2nd and 4th chunk of the big blob fail once each, answered by a front end before the registry sees them.
      const failOnce = new Set([`${4 << 20}-${(8 << 20) - 1}`, `${12 << 20}-${(16 << 20) - 1}`]);
      proxy.resetStats();
      proxy.setPlan((r) => (r.method === 'PATCH' && failOnce.delete(String(r.headers['content-range'])) ? { kind: 'status', status: 503 } : undefined));
      const result = await push(name, { ...scenarioOptions, partSize: 4 << 20, store: source });
      proxy.setPlan(() => undefined);
      const model = result.blobs.find((b) => b.digest === blob.digest);
      expect(model?.outcome).toBe('uploaded');
      expect(model?.resumes).toBe(2);
      expect(model?.sessions).toBe(1);
      // Every byte reached the registry once: the failed chunks never got there, the rest was not sent again.
      const smallLayers = result.blobs.filter((b) => b.digest !== blob.digest).reduce((s, b) => s + b.size, 0);
      const manifestBytes = (await source.readManifest(name)).bytes.length;
      expect(proxy.stats.uploadBytesForwarded).toBe(size + smallLayers + manifestBytes);
      const check = await openStore(tempDir('push-resume'));
      await pull(name.replace(proxy.host, registry.host), { insecure: true, store: check });
      expect((await check.verify()).ok).toBe(true);
    });

    it('a push whose chunk is cut mid-body starts a new session (distribution drops it) and still completes', async () => {
      const name = `${proxy.host}/resume/cut:v1`;
      const size = 12 << 20;
      const blob = await source.putBlob(patternBytes(size, 78));
      await writeModel(source, name, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size });
      const cutOnce = new Set([`${4 << 20}-${(8 << 20) - 1}`]);
      proxy.setPlan((r) => (r.method === 'PATCH' && cutOnce.delete(String(r.headers['content-range'])) ? { kind: 'drop-request', afterBytes: 1 << 20 } : undefined));
      const result = await push(name, { ...scenarioOptions, partSize: 4 << 20, store: source });
      proxy.setPlan(() => undefined);
      const model = result.blobs.find((b) => b.digest === blob.digest);
      expect(model?.sessions).toBe(2);
      const check = await openStore(tempDir('push-cut'));
      await pull(name.replace(proxy.host, registry.host), { insecure: true, store: check });
      expect((await check.verify()).ok).toBe(true);
    });
  });
});
