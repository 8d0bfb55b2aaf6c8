// Loopback throughput of push and pull for one large blob through docker-registry, beside curl moving
// the same blob (download: GET to a file; upload: one monolithic PUT), each run `--runs` times, best kept.
//   node --import tsx test/registry/throughput.ts [--mb 1024] [--runs 3]
// Not a vitest file: it writes ~4x the blob size to the temp folder.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pull, push } from '../../lib/registry/index.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { patternBytes, removeTempDirs, tempDir, writeModel } from './models.js';
import { missingReason, startRegistry } from './registryServer.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '1024' }, runs: { type: 'string', default: '3' } } });
const size = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);
if (missingReason) {
  console.log(`skipped: ${missingReason}`);
  process.exit(0);
}

const registry = await startRegistry();
try {
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
  const best = { push: Infinity, curlPut: Infinity, pull: Infinity, curlGet: Infinity, curlGetSha: Infinity };

  for (let run = 0; run < runs; run++) {
    // A new repository each run, so the push uploads (the registry dedups storage, not repository links).
    const name = `${registry.host}/bench/model${run}:v1`;
    await writeModel(source, name, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size });
    best.push = Math.min(best.push, await time(() => push(name, { insecure: true, store: source })));

    // curl: POST an upload session, then the whole blob in one PUT ?digest=.
    const location = execFileSync('curl', ['-s', '-D', '-', '-o', '/dev/null', '-X', 'POST', `${registry.origin}/v2/bench/curl${run}/blobs/uploads/`], { encoding: 'utf8' })
      .split('\r\n')
      .find((l) => /^location:/i.test(l))
      ?.slice('location:'.length)
      .trim() as string;
    const putUrl = `${location}${location.includes('?') ? '&' : '?'}digest=${blob.digest}`;
    best.curlPut = Math.min(best.curlPut, await time(() => execFileSync('curl', ['-sf', '-o', '/dev/null', '-H', 'Content-Type: application/octet-stream', '-T', blobPath, putUrl])));

    const target = await openStore(tempDir(`bench-pull${run}`));
    best.pull = Math.min(best.pull, await time(() => pull(name, { insecure: true, store: target })));
    rmSync(target.root, { recursive: true, force: true });

    const out = join(tempDir('bench-curl'), 'blob');
    const url = `${registry.origin}/v2/bench/model${run}/blobs/${blob.digest}`;
    best.curlGet = Math.min(best.curlGet, await time(() => execFileSync('curl', ['-sf', '-o', out, url])));
    rmSync(out, { force: true });
    best.curlGetSha = Math.min(best.curlGetSha, await time(() => execFileSync('sh', ['-c', `curl -sf -o "${out}" "${url}" && sha256sum "${out}" >/dev/null`])));
    rmSync(out, { force: true });
  }
  const row = (label: string, ours: number, peerLabel: string, peer: number) =>
    console.log(`${label.padEnd(6)} ${mbps(ours).toFixed(0).padStart(6)} MB/s (${ours.toFixed(2)} s)   ${peerLabel.padEnd(24)} ${mbps(peer).toFixed(0).padStart(6)} MB/s (${peer.toFixed(2)} s)   ratio ${(peer / ours).toFixed(2)}x`);
  console.log(`blob ${(size / 1e6).toFixed(0)} MB, best of ${runs}, ${process.platform}-${process.arch}, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).trim()}`);
  row('pull', best.pull, 'curl GET', best.curlGet);
  row('pull', best.pull, 'curl GET + sha256sum', best.curlGetSha);
  row('push', best.push, 'curl PUT (monolithic)', best.curlPut);
} finally {
  await registry.stop();
  removeTempDirs();
}
