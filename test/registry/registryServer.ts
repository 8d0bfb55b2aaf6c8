// Starts Debian's docker-registry (distribution 2.8) for a test: a config file in a temp folder
// (filesystem storage there, deletion enabled, a free loopback port), optionally with htpasswd or
// token auth, stopped after the file's tests. Tests skip with a printed reason when it is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CANDIDATES = ['/usr/bin/docker-registry', '/usr/local/bin/registry', '/usr/bin/registry'];

// GGUF_FORGE_TEST_REGISTRY names another registry binary, or "none" to run the suite without one.
const fromEnv = process.env.GGUF_FORGE_TEST_REGISTRY;

/** The registry binary, or undefined (then `missingReason` says why). */
export const registryBinary: string | undefined =
  fromEnv === 'none' ? undefined : fromEnv !== undefined ? (existsSync(fromEnv) ? fromEnv : undefined) : (CANDIDATES.find((p) => existsSync(p)) ?? whichRegistry());

function whichRegistry(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v docker-registry || command -v registry'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path !== '' ? path : undefined;
}

export const missingReason =
  registryBinary !== undefined
    ? undefined
    : fromEnv === 'none'
      ? 'GGUF_FORGE_TEST_REGISTRY=none'
      : fromEnv !== undefined
        ? `GGUF_FORGE_TEST_REGISTRY=${fromEnv} does not exist`
        : 'docker-registry (Debian package docker-registry, distribution 2.8) is not installed; .ci/run installs it with apt';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export type RegistryAuthConfig =
  | { kind: 'none' }
  /** The registry provisions user "docker" with a random password in a new htpasswd file and logs it. */
  | { kind: 'htpasswd' }
  | { kind: 'token'; realm: string; service: string; issuer: string; rootCertBundlePem: string };

export interface RunningRegistry {
  /** `127.0.0.1:<port>`: the host part of model names. */
  readonly host: string;
  readonly origin: string;
  readonly dir: string;
  /** For htpasswd: the provisioned credentials. */
  readonly credentials?: { username: string; password: string };
  log(): string;
  stop(): Promise<void>;
}

function configYaml(dir: string, port: number, auth: RegistryAuthConfig): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: gguf-forge-test-secret',
  ];
  if (auth.kind === 'htpasswd') lines.push('auth:', '  htpasswd:', '    realm: gguf-forge-test', `    path: ${join(dir, 'htpasswd')}`);
  if (auth.kind === 'token') {
    writeFileSync(join(dir, 'token-root.pem'), auth.rootCertBundlePem);
    lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${auth.service}`, `    issuer: ${auth.issuer}`, `    rootcertbundle: ${join(dir, 'token-root.pem')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts a registry and waits until /v2/ answers. */
export async function startRegistry(auth: RegistryAuthConfig = { kind: 'none' }): Promise<RunningRegistry> {
  if (registryBinary === undefined) throw new Error(missingReason);
  const dir = mkdtempSync(join(tmpdir(), 'gguf-forge-registry-'));
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const configPath = join(dir, 'config.yml');
    writeFileSync(configPath, configYaml(dir, port, auth));
    let output = '';
    const child: ChildProcess = spawn(registryBinary, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    let exited = false;
    child.on('exit', () => (exited = true));
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${origin}/v2/`);
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) {
          up = true;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      child.kill('SIGKILL');
      lastError = output;
      continue; // the port was taken meanwhile, or a slow start: try another
    }
    let credentials: { username: string; password: string } | undefined;
    if (auth.kind === 'htpasswd') {
      const match = /password=(\S+) user=(\S+)/.exec(output) ?? /user=(\S+) .*password=(\S+)/.exec(output);
      if (match === null) throw new Error(`registry did not log its provisioned htpasswd user:\n${output}`);
      credentials = { password: match[1] as string, username: match[2] as string };
    }
    return {
      host: `127.0.0.1:${port}`,
      origin,
      dir,
      ...(credentials === undefined ? {} : { credentials }),
      log: () => output,
      stop: async () => {
        if (!exited) {
          const gone = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
          if (!exited) child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not start:\n${lastError}`);
}
