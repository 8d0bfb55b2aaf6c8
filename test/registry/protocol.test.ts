// Protocol details no real registry at hand exercises, against small servers written here: blob
// storage behind a cross-origin redirect, servers without Range support, hostile Content-Range,
// Ollama-written partial downloads, and the pure pieces (names, part plan, challenges, Ollama's key).
import { createHash, generateKeyPairSync, verify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blobUrl,
  manifestUrl,
  mountSource,
  ollamaSignedData,
  ollamaTokenUrl,
  parseChallenges,
  parseOllamaKey,
  partSizeFor,
  planParts,
  pull,
  RegistryError,
  resolveEndpoint,
} from '../../lib/registry/index.js';
import { encodeManifest, MEDIA_TYPES } from '../../lib/store/manifest.js';
import { openStore } from '../../lib/store/store.js';
import { patternBytes, removeTempDirs, sha256, tempDir } from './models.js';
import { openSshEd25519Pem, selfSignedTls } from './tokenServer.js';

afterAll(() => removeTempDirs());

describe('names and endpoints', () => {
  it('host/namespace/model:tag maps to https://host/v2/namespace/model, Ollama defaults filled in', () => {
    const ollama = resolveEndpoint('llama3.2');
    expect(manifestUrl(ollama).href).toBe('https://registry.ollama.ai/v2/library/llama3.2/manifests/latest');
    const own = resolveEndpoint('registry.example.com:5000/team/model:q4');
    expect(own.repository).toBe('team/model');
    expect(blobUrl(own, `sha256:${'a'.repeat(64)}`).href).toBe(`https://registry.example.com:5000/v2/team/model/blobs/sha256:${'a'.repeat(64)}`);
    expect(own.httpFallback).toBe(false);
    expect(own.verifyTls).toBe(true);
  });

  it('http needs insecure; insecure without a scheme tries https first (Docker), with an explicit scheme uses it', () => {
    expect(() => resolveEndpoint('http://localhost:5000/a/b')).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_INSECURE' }));
    expect(resolveEndpoint('http://localhost:5000/a/b', { insecure: true }).origin).toBe('http://localhost:5000');
    const fallback = resolveEndpoint('localhost:5000/a/b', { insecure: true });
    expect(fallback.origin).toBe('https://localhost:5000');
    expect(fallback.httpFallback).toBe(true);
    expect(fallback.verifyTls).toBe(false);
    expect(resolveEndpoint('https://localhost:5000/a/b', { insecure: true }).httpFallback).toBe(false);
    expect(() => resolveEndpoint('../../etc/passwd')).toThrow(expect.objectContaining({ code: 'ERR_STORE_NAME' }));
  });

  it("a layer's `from` mounts from its namespace/model, never from a file path or the same repository", () => {
    const endpoint = resolveEndpoint('localhost:5000/team/child');
    expect(mountSource('llama3.2:latest', endpoint)).toBe('library/llama3.2');
    expect(mountSource('localhost:5000/team/base:v1', endpoint)).toBe('team/base');
    expect(mountSource('/root/.ollama/models/blobs/sha256-abc', endpoint)).toBeUndefined();
    expect(mountSource('localhost:5000/team/child:other', endpoint)).toBeUndefined();
    expect(mountSource(undefined, endpoint)).toBeUndefined();
  });
});

describe("Ollama's part plan", () => {
  it('total/16 clamped to [100 MB, 1000 MB] (decimal), Go integer division', () => {
    expect(partSizeFor(1_000_000_000)).toBe(100_000_000);
    expect(partSizeFor(4_920_734_016)).toBe(307_545_876);
    expect(partSizeFor(40_000_000_000)).toBe(1_000_000_000);
    expect(planParts(250_000_000).map((p) => [p.Offset, p.Size])).toEqual([
      [0, 100_000_000],
      [100_000_000, 100_000_000],
      [200_000_000, 50_000_000],
    ]);
    expect(planParts(0)).toEqual([]);
    expect(partSizeFor(10_000, { partSize: 4096 })).toBe(4096);
    expect(partSizeFor(1 << 30, { parts: 4, minPartSize: 1, maxPartSize: 1 << 30 })).toBe(1 << 28);
    expect(() => partSizeFor(10, { partSize: 0 })).toThrow(RangeError);
  });
});

describe('WWW-Authenticate', () => {
  it('parses Docker challenges with commas and spaces inside quoted values', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' } },
    ]);
    expect(parseChallenges(['Basic realm="x \\"quoted\\""', 'Bearer realm="r", error="insufficient_scope", scope="a:b:pull b:c:push"'])).toEqual([
      { scheme: 'basic', params: { realm: 'x "quoted"' } },
      { scheme: 'bearer', params: { realm: 'r', error: 'insufficient_scope', scope: 'a:b:pull b:c:push' } },
    ]);
    expect(parseChallenges('Basic realm=simple, Bearer realm="t"')).toEqual([
      { scheme: 'basic', params: { realm: 'simple' } },
      { scheme: 'bearer', params: { realm: 't' } },
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
  });
});

describe("Ollama's signed token request", () => {
  const challenge = { scheme: 'bearer', params: { realm: 'https://ollama.com/api/auth/token?x=1', service: 'ollama.com', scope: 'repository:me/m:pull repository:me/m:push' } };

  it('builds the URL Go would: realm query kept, keys sorted, values in order, QueryEscape', () => {
    const url = ollamaTokenUrl(challenge, 1_700_000_000_123, 'AAAAAAAAAAAAAAAAAAAAAA');
    expect(url.href).toBe('https://ollama.com/api/auth/token?nonce=AAAAAAAAAAAAAAAAAAAAAA&scope=repository%3Ame%2Fm%3Apull&scope=repository%3Ame%2Fm%3Apush&service=ollama.com&ts=1700000000&x=1');
    expect(ollamaSignedData(url).toString()).toBe(`GET,${url.href},ZTNiMGM0NDI5OGZjMWMxNDlhZmJmNGM4OTk2ZmI5MjQyN2FlNDFlNDY0OWI5MzRjYTQ5NTk5MWI3ODUyYjg1NQ==`);
  });

  it('reads an OpenSSH ed25519 key and signs as auth.Sign does (<ssh public key>:<signature>)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const { pem, publicKeyBase64 } = openSshEd25519Pem(privateKey);
    const key = parseOllamaKey(pem);
    expect(key.publicKeyBase64).toBe(publicKeyBase64);
    const data = Buffer.from('GET,https://ollama.com/token?x,abc');
    const [pub, sig] = key.sign(data).split(':');
    expect(pub).toBe(publicKeyBase64);
    expect(verify(null, data, publicKey, Buffer.from(sig as string, 'base64'))).toBe(true);
  });

  it.skipIf(!existsSync('/usr/bin/ssh-keygen'))('reads the key ssh-keygen writes (what `ollama serve` generates), public line identical to the .pub file', () => {
    const dir = tempDir('sshkey');
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(dir, 'id_ed25519')]);
    const key = parseOllamaKey(readFileSync(join(dir, 'id_ed25519'), 'utf8'));
    expect(`${key.publicKeyLine} test`).toBe(readFileSync(join(dir, 'id_ed25519.pub'), 'utf8').trim());
  });

  it('refuses encrypted, truncated and foreign keys with ERR_REGISTRY_KEY', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const { pem } = openSshEd25519Pem(privateKey);
    const body = Buffer.from(pem.split('\n').slice(1, -2).join(''), 'base64');
    const reencode = (b: Buffer) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${b.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`;
    expect(() => parseOllamaKey(reencode(body.subarray(0, 60)))).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_KEY' }));
    const encrypted = Buffer.from(body);
    encrypted.write('aes2', 15 + 4, 'latin1'); // cipher name "none" -> "aes2"
    expect(() => parseOllamaKey(reencode(encrypted))).toThrow(/encrypted/);
    expect(() => parseOllamaKey('-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----')).toThrow(expect.objectContaining({ code: 'ERR_REGISTRY_KEY' }));
  });
});

/** A tiny registry: one manifest, blobs behind a redirect to a storage origin, bearer auth. */
interface MiniRegistry {
  origin: string;
  host: string;
  storageAuthHeaders: Array<string | undefined>;
  blobRequests: number;
  mode: 'redirect' | 'no-range' | 'bad-range' | 'direct';
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function miniRegistry(blobs: Map<string, Buffer>, manifest: Buffer, tlsOptions?: { key: string; cert: string }): Promise<MiniRegistry> {
  const state: MiniRegistry = { origin: '', host: '', storageAuthHeaders: [], blobRequests: 0, mode: 'redirect', close: async () => undefined };
  const serveRange = (req: http.IncomingMessage, res: http.ServerResponse, data: Buffer, honourRange: boolean) => {
    const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!honourRange || match === null) {
      res.writeHead(200, { 'content-length': data.length });
      res.end(data);
      return;
    }
    const first = Number(match[1]);
    const last = Math.min(Number(match[2]), data.length - 1);
    const shownFirst = state.mode === 'bad-range' ? first + 1 : first;
    res.writeHead(206, { 'content-range': `bytes ${shownFirst}-${last}/${data.length}`, 'content-length': last - first + 1 });
    res.end(data.subarray(first, last + 1));
  };
  const storage = http.createServer((req, res) => {
    state.storageAuthHeaders.push(req.headers.authorization);
    const data = blobs.get(decodeURIComponent((req.url ?? '').split('/').pop() ?? ''));
    if (data === undefined) return void res.writeHead(404).end();
    serveRange(req, res, data, true);
  });
  const storageOrigin = await listen(storage);
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '';
    if (url.startsWith('/token')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"token":"t0k"}');
    if (req.headers.authorization !== 'Bearer t0k') {
      return void res.writeHead(401, { 'www-authenticate': `Bearer realm="${state.origin}/token",service="mini",scope="repository:ns/m:pull"` }).end();
    }
    if (url === '/v2/ns/m/manifests/t') {
      return void res.writeHead(200, { 'content-type': MEDIA_TYPES.manifest, 'docker-content-digest': sha256(manifest) }).end(manifest);
    }
    const digest = /\/v2\/ns\/m\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url)?.[1];
    const data = digest === undefined ? undefined : blobs.get(digest);
    if (data === undefined) return void res.writeHead(404).end();
    state.blobRequests++;
    if (state.mode === 'redirect') return void res.writeHead(307, { location: `${storageOrigin}/store/${encodeURIComponent(digest as string)}` }).end();
    serveRange(req, res, data, state.mode !== 'no-range');
  };
  const registry = tlsOptions === undefined ? http.createServer(handler) : https.createServer(tlsOptions, handler);
  state.origin = (await listen(registry)).replace('http:', tlsOptions === undefined ? 'http:' : 'https:');
  state.host = new URL(state.origin).host;
  state.close = async () => {
    registry.closeAllConnections();
    storage.closeAllConnections();
    await Promise.all([new Promise((r) => registry.close(r)), new Promise((r) => storage.close(r))]);
  };
  return state;
}

describe.each([false, true])('pull against a minimal registry (bulkTransport %s)', (bulkTransport) => {
  const model = patternBytes(3_000_000, 9);
  const config = Buffer.from('{"model_format":"gguf"}\n');
  const modelDigest = sha256(model);
  const manifest = encodeManifest({ mediaType: MEDIA_TYPES.config, digest: sha256(config), size: config.length }, [{ mediaType: MEDIA_TYPES.model, digest: modelDigest, size: model.length }]);
  const blobs = new Map([
    [modelDigest, model],
    [sha256(config), config],
  ]);
  let mini: MiniRegistry;
  const options = { insecure: true, retries: 1, retryDelayMs: 1, partSize: 700_000, ollamaKey: false, bulkTransport } as const;
  beforeAll(async () => {
    mini = await miniRegistry(blobs, manifest);
  });
  afterAll(async () => mini?.close());

  it('follows the redirect to blob storage and never sends the registry token there', async () => {
    mini.mode = 'redirect';
    mini.storageAuthHeaders.length = 0;
    const store = await openStore(tempDir('redirect'));
    await pull(`http://${mini.host}/ns/m:t`, { ...options, store });
    expect((await store.verify()).ok).toBe(true);
    expect(mini.storageAuthHeaders.length).toBeGreaterThanOrEqual(5); // 5 parts of the model + the config
    expect(mini.storageAuthHeaders.every((h) => h === undefined)).toBe(true);
  });

  it('a server that ignores Range still yields the right blob', async () => {
    mini.mode = 'no-range';
    const store = await openStore(tempDir('norange'));
    await pull(`http://${mini.host}/ns/m:t`, { ...options, store });
    expect(readFileSync(store.blobPath(modelDigest)).equals(model)).toBe(true);
  });

  it('a Content-Range other than the one asked for is a protocol error, not data', async () => {
    mini.mode = 'bad-range';
    const store = await openStore(tempDir('badrange'));
    const error = (await pull(`http://${mini.host}/ns/m:t`, { ...options, store }).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('ERR_REGISTRY_PROTOCOL');
    const match = /asked for bytes (\d+)-\d+ of \d+, got Content-Range "bytes (\d+)-/.exec(error.message);
    expect(Number(match?.[2])).toBe(Number(match?.[1]) + 1);
    expect(await store.list()).toEqual([]);
  });

  it("resumes a partial download Ollama left (its -partial and -partial-N files), fetching only what is missing", async () => {
    mini.mode = 'direct';
    const store = await openStore(tempDir('ollama-partial'));
    mkdirSync(store.blobsDir, { recursive: true });
    const blobPath = store.blobPath(modelDigest);
    // What Ollama's downloader leaves after an interruption: a pre-sized sparse file, parts with progress.
    const partial = Buffer.alloc(model.length);
    const parts = [
      { N: 0, Offset: 0, Size: 1_500_000, Completed: 1_500_000 },
      { N: 1, Offset: 1_500_000, Size: 1_500_000, Completed: 600_000 },
    ];
    for (const p of parts) model.copy(partial, p.Offset, p.Offset, p.Offset + p.Completed);
    writeFileSync(`${blobPath}-partial`, partial);
    for (const p of parts) writeFileSync(`${blobPath}-partial-${p.N}`, `${JSON.stringify(p)}\n`);
    const result = await pull(`http://${mini.host}/ns/m:t`, { ...options, store });
    const blob = result.blobs.find((b) => b.digest === modelDigest);
    expect(blob?.resumedBytes).toBe(2_100_000);
    expect(blob?.bytesTransferred).toBe(900_000);
    const report = await store.verify();
    expect(report.problems).toEqual([]);
    expect(readdirSync(store.blobsDir).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('part records that do not describe the blob are discarded and the download starts over', async () => {
    mini.mode = 'direct';
    const store = await openStore(tempDir('bad-parts'));
    mkdirSync(store.blobsDir, { recursive: true });
    const blobPath = store.blobPath(modelDigest);
    writeFileSync(`${blobPath}-partial`, Buffer.alloc(model.length, 0xee));
    writeFileSync(`${blobPath}-partial-0`, '{"N":0,"Offset":0,"Size":1000,"Completed":1000}\n'); // leaves a gap
    const result = await pull(`http://${mini.host}/ns/m:t`, { ...options, store });
    expect(result.blobs.find((b) => b.digest === modelDigest)?.bytesTransferred).toBe(model.length);
    expect((await store.verify()).ok).toBe(true);
    expect(createHash('sha256').update(readFileSync(blobPath)).digest('hex')).toBe(modelDigest.slice(7));
  });
});

describe("push to a registry that redirects uploads to storage (Ollama's registry)", () => {
  it('PUTs each part to the pre-signed URL without credentials, follows Docker-Upload-Location, commits with the S3 etag', async () => {
    const storageParts = new Map<string, Map<number, Buffer>>();
    let uploads = 0;
    const storageAuth: Array<string | undefined> = [];
    const committed = new Map<string, Buffer>();
    const commits: Array<{ digest: string; etag: string | null; parts: Buffer[] }> = [];
    const storage = http.createServer((req, res) => {
      storageAuth.push(req.headers.authorization);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '', 'http://x');
        const id = url.pathname.split('/').pop() as string;
        if (!storageParts.has(id)) storageParts.set(id, new Map());
        storageParts.get(id)?.set(Number(url.searchParams.get('offset')), Buffer.concat(chunks));
        res.writeHead(200).end();
      });
    });
    const storageOrigin = await listen(storage);
    let manifestBody: Buffer | undefined;
    const registry = http.createServer((req, res) => {
      const url = new URL(req.url ?? '', 'http://x');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.headers.authorization !== 'Bearer t0k') {
          if (url.pathname === '/token') return void res.writeHead(200).end('{"token":"t0k"}');
          return void res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="s",scope="repository:ns/m:pull,push"` }).end();
        }
        if (req.method === 'HEAD') return void res.writeHead(committed.has(url.pathname.split('/').pop() ?? '') ? 200 : 404).end();
        if (req.method === 'POST') return void res.writeHead(202, { location: `/v2/ns/m/blobs/uploads/u${++uploads}?n=0` }).end();
        if (req.method === 'PATCH') {
          // Ollama's registry answers the PATCH with where to put the bytes and where to PATCH next.
          const [first] = String(req.headers['content-range']).split('-');
          const n = Number(url.searchParams.get('n'));
          const id = url.pathname.split('/').pop() as string;
          return void res.writeHead(307, { location: `${storageOrigin}/bucket/${id}?offset=${first}&sig=abc`, 'docker-upload-location': `${url.pathname}?n=${n + 1}` }).end();
        }
        if (req.method === 'PUT' && url.pathname.includes('/uploads/')) {
          const parts = storageParts.get(url.pathname.split('/').pop() as string) ?? new Map<number, Buffer>();
          const whole = Buffer.concat([...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b));
          const digest = url.searchParams.get('digest') as string;
          if (sha256(whole) !== digest) return void res.writeHead(400).end('{"errors":[{"code":"DIGEST_INVALID"}]}');
          committed.set(digest, whole);
          commits.push({ digest, etag: url.searchParams.get('etag'), parts: [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b) });
          return void res.writeHead(201, { 'docker-content-digest': digest }).end();
        }
        if (req.method === 'PUT' && url.pathname.includes('/manifests/')) {
          manifestBody = Buffer.concat(chunks);
          return void res.writeHead(201, { 'docker-content-digest': sha256(manifestBody) }).end();
        }
        res.writeHead(405).end();
      });
    });
    const origin = await listen(registry);
    try {
      const store = await openStore(tempDir('redirect-push'));
      const name = `http://${origin.slice('http://'.length)}/ns/m:v1`;
      const model = patternBytes(2_500_000, 4);
      const blob = await store.putBlob(model);
      const config = await store.putBlob('{}\n');
      await store.writeManifest(name, { mediaType: MEDIA_TYPES.config, digest: config.digest, size: config.size }, [{ mediaType: MEDIA_TYPES.model, digest: blob.digest, size: blob.size }]);
      const { push } = await import('../../lib/registry/index.js');
      const result = await push(name, { store, insecure: true, retries: 1, retryDelayMs: 1, partSize: 1_000_000, ollamaKey: false });
      expect(result.blobs.map((b) => b.outcome)).toEqual(['uploaded', 'uploaded']);
      expect(committed.get(blob.digest)?.equals(model)).toBe(true);
      expect(storageAuth.every((h) => h === undefined)).toBe(true);
      // Each commit carries S3's multipart etag: md5 of the parts' md5s, then "-<parts>".
      const md5 = (b: Buffer) => createHash('md5').update(b).digest();
      const modelCommit = commits.find((c) => c.digest === blob.digest);
      expect(modelCommit?.parts.length).toBe(3);
      for (const commit of commits) expect(commit.etag).toBe(`${createHash('md5').update(Buffer.concat(commit.parts.map(md5))).digest('hex')}-${commit.parts.length}`);
      expect(manifestBody?.equals((await store.readManifest(name)).bytes)).toBe(true);
    } finally {
      registry.closeAllConnections();
      storage.closeAllConnections();
      await Promise.all([new Promise((r) => registry.close(r)), new Promise((r) => storage.close(r))]);
    }
  });
});

describe('TLS', () => {
  const model = patternBytes(2_000_000, 12);
  const config = Buffer.from('{}\n');
  const manifest = encodeManifest({ mediaType: MEDIA_TYPES.config, digest: sha256(config), size: config.length }, [{ mediaType: MEDIA_TYPES.model, digest: sha256(model), size: model.length }]);
  const blobs = new Map([
    [sha256(model), model],
    [sha256(config), config],
  ]);
  const options = { retries: 3, retryDelayMs: 200, partSize: 500_000, ollamaKey: false } as const;
  let secure: MiniRegistry;
  let plain: MiniRegistry;
  beforeAll(async () => {
    secure = await miniRegistry(blobs, manifest, selfSignedTls());
    secure.mode = 'direct';
    plain = await miniRegistry(blobs, manifest);
    plain.mode = 'direct';
  });
  afterAll(async () => {
    await secure?.close();
    await plain?.close();
  });

  it.each([false, true])('insecure: https with a self-signed certificate (bulkTransport %s)', async (bulkTransport) => {
    const store = await openStore(tempDir('tls'));
    await pull(`${secure.host}/ns/m:t`, { ...options, insecure: true, bulkTransport, store });
    expect(readFileSync(store.blobPath(sha256(model))).equals(model)).toBe(true);
  });

  it('without insecure the certificate is refused at once: ERR_REGISTRY_TLS, no retries', async () => {
    const store = await openStore(tempDir('tls-refused'));
    const started = Date.now();
    const error = (await pull(`${secure.host}/ns/m:t`, { ...options, store }).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('ERR_REGISTRY_TLS');
    expect(error.message).toMatch(/SELF_SIGNED|self.signed/i);
    expect(Date.now() - started).toBeLessThan(600); // three retries would wait >= 0.7 s
  });

  it('insecure without a scheme falls back to http when https does not connect (Docker)', async () => {
    const store = await openStore(tempDir('fallback'));
    await pull(`${plain.host}/ns/m:t`, { ...options, insecure: true, store });
    expect((await store.verify()).ok).toBe(true);
  });
});
