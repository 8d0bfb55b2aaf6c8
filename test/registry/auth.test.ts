// Authentication against the real registry: htpasswd (Basic) and token auth with a token service
// served by the test, reached with Basic credentials (Docker's flow) or Ollama's ed25519 signature.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pull, push, RegistryError } from '../../lib/registry/index.js';
import { openStore, type ModelStore } from '../../lib/store/store.js';
import { startFaultProxy, type FaultProxy } from './faultProxy.js';
import { ggufLayer, removeTempDirs, tempDir, writeModel } from './models.js';
import { freePort, missingReason, startRegistry, type RunningRegistry } from './registryServer.js';
import { createTokenService, openSshEd25519Pem, type TokenService } from './tokenServer.js';

if (missingReason) console.warn(`skipping registry auth tests: ${missingReason}`);

const fast = { insecure: true, retries: 1, retryDelayMs: 1, ollamaKey: false } as const;

afterAll(() => removeTempDirs());

describe.skipIf(missingReason !== undefined)('htpasswd (Basic) auth', () => {
  let registry: RunningRegistry;
  let store: ModelStore;
  let name: string;

  beforeAll(async () => {
    registry = await startRegistry({ kind: 'htpasswd' });
    store = await openStore(tempDir('basic'));
    name = `${registry.host}/private/model:v1`;
    await writeModel(store, name, await ggufLayer(store, { seed: 21 }));
  });
  afterAll(async () => registry?.stop());

  it('push and pull with credentials from the options', async () => {
    const credentials = registry.credentials as { username: string; password: string };
    await push(name, { ...fast, store, credentials });
    const target = await openStore(tempDir('basic-pull'));
    await pull(name, { ...fast, store: target, credentials });
    expect((await target.verify()).ok).toBe(true);
  });

  it('credentials from GGUF_FORGE_REGISTRY_USER / GGUF_FORGE_REGISTRY_PASSWORD', async () => {
    const credentials = registry.credentials as { username: string; password: string };
    const target = await openStore(tempDir('basic-env'));
    await pull(name, { ...fast, store: target, env: { GGUF_FORGE_REGISTRY_USER: credentials.username, GGUF_FORGE_REGISTRY_PASSWORD: credentials.password } });
    expect((await target.verify()).ok).toBe(true);
  });

  it('no or wrong credentials: ERR_REGISTRY_UNAUTHORIZED', async () => {
    const target = await openStore(tempDir('basic-none'));
    const none = await pull(name, { ...fast, store: target, env: {} }).catch((e: unknown) => e);
    expect((none as RegistryError).code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect((none as RegistryError).status).toBe(401);
    const wrong = await push(name, { ...fast, store, credentials: { username: 'docker', password: 'not-it' } }).catch((e: unknown) => e);
    expect((wrong as RegistryError).code).toBe('ERR_REGISTRY_UNAUTHORIZED');
  });
});

describe.skipIf(missingReason !== undefined)('token auth (Docker token spec) with a test token service', () => {
  let registry: RunningRegistry;
  let front: FaultProxy;
  let tokens: TokenService;
  let store: ModelStore;
  let name: string;
  let keyPath: string;
  const basic = { username: 'alice', password: 'p@ss:word' };

  beforeAll(async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const key = openSshEd25519Pem(privateKey);
    keyPath = join(tempDir('key'), 'id_ed25519');
    writeFileSync(keyPath, key.pem, { mode: 0o600 });
    tokens = createTokenService({ basic, ollamaPublicKey: key.publicKeyBase64 });
    // The token realm lives on the registry's own host (as on registry.ollama.ai): a front end routes /token.
    const port = await freePort();
    registry = await startRegistry({ kind: 'token', realm: `http://127.0.0.1:${port}/token`, service: tokens.service, issuer: tokens.issuer, rootCertBundlePem: tokens.rootCertBundlePem });
    front = await startFaultProxy(registry.origin, { port, localRoute: (req, res, origin) => tokens.handle(req, res, origin) });
    store = await openStore(tempDir('token'));
    name = `${front.host}/team/model:v1`;
    await writeModel(store, name, await ggufLayer(store, { seed: 22 }));
  });
  afterAll(async () => {
    await front?.close();
    await registry?.stop();
  });

  it('Basic credentials buy a bearer token (Docker flow): push, then pull', async () => {
    tokens.requests.length = 0;
    await push(name, { ...fast, store, credentials: basic });
    expect(tokens.requests.length).toBeGreaterThan(0);
    expect(tokens.requests.every((r) => r.how === 'basic')).toBe(true);
    // The push asked for push access to its repository (not only what the first challenge named).
    expect(tokens.requests.some((r) => new URL(r.url).searchParams.getAll('scope').includes('repository:team/model:pull,push'))).toBe(true);
    const target = await openStore(tempDir('token-pull'));
    await pull(name, { ...fast, store: target, credentials: basic });
    expect((await target.verify()).ok).toBe(true);
  });

  it("Ollama's ed25519-signed token request (key file, nonce, ts, sorted query) is accepted", async () => {
    tokens.requests.length = 0;
    const target = await openStore(tempDir('token-ollama'));
    await pull(name, { ...fast, store: target, ollamaKey: keyPath });
    expect((await target.verify()).ok).toBe(true);
    const request = tokens.requests[0];
    expect(request?.how).toBe('ollama');
    // Go's url.Values.Encode order: nonce, scope, service, ts.
    expect([...new Set(new URL(request?.url as string).searchParams.keys())]).toEqual(['nonce', 'scope', 'service', 'ts']);
    const other = `${front.host}/team/second:v1`;
    await writeModel(store, other, await ggufLayer(store, { seed: 23 }));
    await push(other, { ...fast, store, ollamaKey: keyPath });
    expect(tokens.requests.filter((r) => r.how === 'ollama').length).toBeGreaterThan(1);
  });

  it('without credentials or key the token service refuses: ERR_REGISTRY_UNAUTHORIZED naming the service', async () => {
    const target = await openStore(tempDir('token-anon'));
    const error = (await pull(name, { ...fast, store: target, env: {} }).catch((e: unknown) => e)) as RegistryError;
    expect(error.code).toBe('ERR_REGISTRY_UNAUTHORIZED');
    expect(error.message).toMatch(/token service .*\/token refused anonymous access/);
    const wrong = (await pull(name, { ...fast, store: target, credentials: { username: 'alice', password: 'nope' } }).catch((e: unknown) => e)) as RegistryError;
    expect(wrong.message).toMatch(/refused the credentials of alice/);
  });
});
