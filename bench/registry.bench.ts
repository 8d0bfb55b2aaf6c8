// Loopback throughput of push and pull for one large blob through docker-registry, beside curl moving
// the same blob (download: GET to a file, alone and with what a pull also guarantees: the blob on
// disk before it is named, its sha256 checked; upload: one monolithic PUT). Each run times ours and
// curl back to back; the table gives the best time of each and the median of the per-run ratios (on
// a shared machine the load moves between runs, the ratio of neighbouring runs much less).
//   npm run bench registry -- [--mb 1024] [--runs 3]
// It writes ~4x the blob size to the temp folder.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { pull, push } from '../lib/registry/index.js';
import { MEDIA_TYPES } from '../lib/store/manifest.js';
import { openStore } from '../lib/store/store.js';
import { patternBytes, removeTempDirs, tempDir, writeModel } from '../test/registry/models.js';
import { missingReason, startRegistry } from '../test/registry/registryServer.js';

export async function registryBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { mb: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
  const size = Number(values.mb) * 1024 * 1024;
  const runs = Number(values.runs);
  if (!(size > 0) || !Number.isSafeInteger(runs) || runs < 1) {
    console.error('registry bench: --mb and --runs take positive numbers');
    return 2;
  }
  if (missingReason) {
    console.log(`registry bench skipped: ${missingReason}`);
    return 0;
  }
  const registry = await startRegistry();
  try {
    await measure(registry, size, runs);
  } finally {
    await registry.stop();
    removeTempDirs();
  }
  return 0;
}

/** The fastest sha256 command at hand: openssl's uses the SHA extensions as node does, coreutils' may not. */
function sha256Command(): { hasher: string; hasherName: string } {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return { hasher: 'openssl dgst -sha256', hasherName: 'openssl sha256' };
  } catch {
    return { hasher: 'sha256sum', hasherName: 'sha256sum' };
  }
}

async function measure(registry: Awaited<ReturnType<typeof startRegistry>>, size: number, runs: number): Promise<void> {
  const { hasher, hasherName } = sha256Command();
  const source = await openStore(tempDir('bench-source'));
  const writer = await source.createBlobWriter();
  const chunk = 16 << 20;
  for (let done = 0, i = 0; done < size; done += chunk, i++) await writer.write(patternBytes(Math.min(chunk, size - done), 7 + i));
  const blob = await writer.commit();
  const blobPath = source.blobPath(blob.digest);
  const mbps = (seconds: number) => size / 1e6 / seconds;
  const time = async (f: () => Promise<unknown> | unknown) => {
    const t = process.hrtime.bigint();
    await f();
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const times = { push: [] as number[], curlPut: [] as number[], pull: [] as number[], curlGet: [] as number[], curlGetSync: [] as number[], curlGetSha: [] as number[], curlGetBoth: [] as number[] };

  for (let run = 0; run < runs; run++) {
    // A new repository each run, so the push uploads (the registry dedups storage, not repository links).
    const name = `${registry.host}/bench/model${run}:v1`;
    await writeModel(source, name, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size });
    times.push.push(await time(() => push(name, { insecure: true, store: source })));

    // curl: POST an upload session, then the whole blob in one PUT ?digest=.
    const location = execFileSync('curl', ['-s', '-D', '-', '-o', '/dev/null', '-X', 'POST', `${registry.origin}/v2/bench/curl${run}/blobs/uploads/`], { encoding: 'utf8' })
      .split('\r\n')
      .find((l) => /^location:/i.test(l))
      ?.slice('location:'.length)
      .trim() as string;
    const putUrl = `${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`;
    times.curlPut.push(await time(() => execFileSync('curl', ['-sf', '-o', '/dev/null', '-H', 'Content-Type: application/octet-stream', '-T', blobPath, putUrl])));

    const target = await openStore(tempDir(`bench-pull${run}`));
    times.pull.push(await time(() => pull(name, { insecure: true, store: target })));
    rmSync(target.root, { recursive: true, force: true });

    const out = join(tempDir('bench-curl'), 'blob');
    const url = `${registry.origin}/v2/bench/model${run}/blobs/${blob.digest}`;
    times.curlGet.push(await time(() => execFileSync('curl', ['-sf', '-o', out, url])));
    rmSync(out, { force: true });
    // What a pull also guarantees: the blob on disk (fsync) before it is named...
    times.curlGetSync.push(await time(() => execFileSync('sh', ['-c', `curl -sf -o "${out}" "${url}" && sync "${out}"`])));
    rmSync(out, { force: true });
    // ...and its sha256 checked.
    times.curlGetSha.push(await time(() => execFileSync('sh', ['-c', `curl -sf -o "${out}" "${url}" && ${hasher} "${out}" >/dev/null`])));
    rmSync(out, { force: true });
    // ...both, as a script would do them (hashing through a pipe while downloading is slower here).
    times.curlGetBoth.push(await time(() => execFileSync('sh', ['-c', `curl -sf -o "${out}" "${url}" && ${hasher} "${out}" >/dev/null && sync "${out}"`])));
    rmSync(out, { force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
  const row = (label: string, ours: number[], peerLabel: string, peer: number[]) => {
    const a = Math.min(...ours);
    const b = Math.min(...peer);
    const ratio = median(ours.map((t, i) => (peer[i] as number) / t));
    console.log(`${label.padEnd(6)} ${mbps(a).toFixed(0).padStart(6)} MB/s (${a.toFixed(2)} s)   ${peerLabel.padEnd(28)} ${mbps(b).toFixed(0).padStart(6)} MB/s (${b.toFixed(2)} s)   ratio ${(b / a).toFixed(2)}x of best, median paired ${ratio.toFixed(2)}x`);
  };
  console.log(`blob ${(size / 1e6).toFixed(0)} MB, ${runs} runs, ${process.platform}-${process.arch}, ${os.cpus().length} cpus, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
  row('pull', times.pull, 'curl GET', times.curlGet);
  row('pull', times.pull, 'curl GET + fsync', times.curlGetSync);
  row('pull', times.pull, `curl GET + ${hasherName}`, times.curlGetSha);
  row('pull', times.pull, `curl GET + ${hasherName.split(' ')[0]} + fsync`, times.curlGetBoth);
  row('push', times.push, 'curl PUT (monolithic)', times.curlPut);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await registryBenchMain(process.argv.slice(2));
}
