// A token service for distribution's `auth: token` (the Docker token spec): ES256 JWTs whose key the
// registry trusts through a self-signed certificate in its rootcertbundle (the JWT names it by its
// libtrust key ID). Requests are authorized by Basic credentials or by Ollama's ed25519 signature.
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

// ---- minimal DER, enough for one self-signed certificate ----
function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const der = (tag: number, ...content: Buffer[]) => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
};
const seq = (...c: Buffer[]) => der(0x30, ...c);
const set = (...c: Buffer[]) => der(0x31, ...c);
const integer = (bytes: Buffer) => der(0x02, (bytes[0] as number) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * (parts[0] as number) + (parts[1] as number)];
  for (const p of parts.slice(2)) {
    const groups: number[] = [];
    for (let v = p; ; v = Math.floor(v / 128)) {
      groups.unshift(v & 0x7f);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return der(0x06, Buffer.from(out));
}
const utcTime = (d: Date) => der(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`, 'latin1'));
const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/** A self-signed X.509 certificate (DER) for `key`'s public key. */
function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject, commonName: string): Buffer {
  const name = seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from(commonName)))));
  const now = Date.now();
  const tbs = seq(
    der(0xa0, integer(Buffer.from([2]))),
    integer(randomBytes(8)),
    seq(oid(ECDSA_SHA256)),
    name,
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 24 * 3600_000))),
    name,
    publicKey.export({ format: 'der', type: 'spki' }),
  );
  const signature = sign('sha256', tbs, privateKey);
  return seq(tbs, seq(oid(ECDSA_SHA256)), der(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

/** libtrust's key ID: the first 240 bits of sha256(SPKI DER), base32, in groups of four joined by ':'. */
function libtrustKeyId(publicKey: KeyObject): string {
  const bytes = createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let text = '';
  for (let i = 0; i + 5 <= bits.length; i += 5) text += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return (text.match(/.{1,4}/g) as string[]).join(':');
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const certificatePem = (der: Buffer) => `-----BEGIN CERTIFICATE-----\n${(der.toString('base64').match(/.{1,64}/g) as string[]).join('\n')}\n-----END CERTIFICATE-----\n`;

/** A key and self-signed certificate for a test TLS server. */
export function selfSignedTls(commonName = 'gguf-forge test registry'): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, cert: certificatePem(selfSignedCertificate(privateKey, publicKey, commonName)) };
}

export interface TokenRequestLog {
  readonly url: string;
  readonly authorization: string | undefined;
  readonly granted: boolean;
  readonly how?: 'basic' | 'ollama';
}

export interface TokenService {
  readonly service: string;
  readonly issuer: string;
  readonly rootCertBundlePem: string;
  readonly requests: TokenRequestLog[];
  /** Answers GET <path>; returns false for other requests. */
  handle(req: IncomingMessage, res: ServerResponse, origin: string): boolean;
}

export interface TokenServiceOptions {
  readonly path?: string;
  /** Accepted Basic credentials. */
  readonly basic?: { username: string; password: string };
  /** Accepted Ollama public key (the SSH wire form, base64). */
  readonly ollamaPublicKey?: string;
}

/** The raw Ed25519 key inside an SSH wire public key (string "ssh-ed25519", string key). */
function ed25519FromSshWire(wire: Buffer): KeyObject {
  const typeLength = wire.readUInt32BE(0);
  const type = wire.subarray(4, 4 + typeLength).toString('latin1');
  if (type !== 'ssh-ed25519') throw new Error(`key type ${type}`);
  const raw = wire.subarray(8 + typeLength, 8 + typeLength + 32);
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
}

export function createTokenService(options: TokenServiceOptions = {}): TokenService {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = selfSignedCertificate(privateKey, publicKey, 'gguf-forge test token issuer');
  const kid = libtrustKeyId(publicKey);
  const service = 'gguf-forge-test-registry';
  const issuer = 'gguf-forge-test-issuer';
  const path = options.path ?? '/token';
  const requests: TokenRequestLog[] = [];

  const authorize = (req: IncomingMessage, fullUrl: string): 'basic' | 'ollama' | undefined => {
    const authorization = req.headers.authorization;
    if (authorization === undefined) return undefined;
    if (authorization.startsWith('Basic ') && options.basic) {
      const [user, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
      return user === options.basic.username && rest.join(':') === options.basic.password ? 'basic' : undefined;
    }
    const colon = authorization.indexOf(':');
    if (colon > 0 && options.ollamaPublicKey) {
      const keyPart = authorization.slice(0, colon);
      if (keyPart !== options.ollamaPublicKey) return undefined;
      const emptyHash = Buffer.from(createHash('sha256').update('').digest('hex')).toString('base64');
      const data = Buffer.from(`GET,${fullUrl},${emptyHash}`);
      const ok = verify(null, data, ed25519FromSshWire(Buffer.from(keyPart, 'base64')), Buffer.from(authorization.slice(colon + 1), 'base64'));
      const query = new URL(fullUrl).searchParams;
      const fresh = Math.abs(Number(query.get('ts')) - Date.now() / 1000) < 60 && (query.get('nonce') ?? '').length >= 16;
      return ok && fresh ? 'ollama' : undefined;
    }
    return undefined;
  };

  return {
    service,
    issuer,
    rootCertBundlePem: certificatePem(cert),
    requests,
    handle(req, res, origin) {
      if (req.method !== 'GET' || !(req.url ?? '').startsWith(path)) return false;
      const fullUrl = `${origin}${req.url}`;
      const url = new URL(fullUrl);
      const how = authorize(req, fullUrl);
      requests.push({ url: fullUrl, authorization: req.headers.authorization, granted: how !== undefined, ...(how === undefined ? {} : { how }) });
      if (how === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'access denied' }));
        return true;
      }
      const access = url.searchParams
        .getAll('scope')
        .filter((s) => s !== '')
        .map((scope) => {
          const parts = scope.split(':');
          return { type: parts[0], name: parts.slice(1, -1).join(':'), actions: (parts.at(-1) ?? '').split(',') };
        });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid }));
      const claims = b64url(JSON.stringify({ iss: issuer, sub: how, aud: url.searchParams.get('service') ?? '', exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access }));
      const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 }));
      return true;
    },
  };
}

/** An unencrypted OpenSSH ed25519 private key file for `privateKey` (what `ssh-keygen -t ed25519 -N ''` writes). */
export function openSshEd25519Pem(privateKey: KeyObject, comment = 'gguf-forge-test'): { pem: string; publicKeyBase64: string } {
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d as string, 'base64url');
  const pub = Buffer.from(jwk.x as string, 'base64url');
  const str = (b: Buffer | string) => {
    const bytes = Buffer.from(b);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    return Buffer.concat([len, bytes]);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const wire = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4).readUInt32BE(0);
  let priv = Buffer.concat([u32(check), u32(check), str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), str('none'), str('none'), str(''), u32(1), str(wire), str(priv)]);
  const pem = `-----BEGIN OPENSSH PRIVATE KEY-----\n${(body.toString('base64').match(/.{1,70}/g) as string[]).join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`;
  return { pem, publicKeyBase64: wire.toString('base64') };
}
