import { execFileSync } from 'node:child_process';
import { pull, push } from '../../lib/registry/index.js';
import { MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { patternBytes, removeTempDirs, tempDir, writeModel } from './models.js';
import { startRegistry } from './registryServer.js';
const size = 1024 << 20;
const registry = await startRegistry();
try {
  const source = await openStore(tempDir('s'));
  const w = await source.createBlobWriter();
  for (let d = 0, i = 0; d < size; d += 16 << 20, i++) await w.write(patternBytes(16 << 20, i));
  const blob = await w.commit();
  const name = `${registry.host}/p/m:v1`;
  await writeModel(source, name, { mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size });
  await push(name, { insecure: true, store: source });
  const url = `${registry.origin}/v2/p/m/blobs/${blob.digest}`;
  for (const opts of [{}, { concurrency: 1 }, {concurrency: 4}, {}, { concurrency: 1 }, {concurrency: 4}]) {
    let t = performance.now(); execFileSync('curl', ['-sf', '-o', '/tmp/cb', url]); const c = performance.now() - t;
    execFileSync('rm', ['-f', '/tmp/cb']);
    const target = await openStore(tempDir('t'));
    t = performance.now();
    await pull(name, { insecure: true, store: target, ...opts });
    const p = performance.now() - t;
    console.log(JSON.stringify(opts).padEnd(18), 'pull', p.toFixed(0), 'curl', c.toFixed(0), 'ratio', (c/p).toFixed(2), 'load', execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ')[0]);
    await target.remove(name);
  }
} finally { await registry.stop(); removeTempDirs(); }
