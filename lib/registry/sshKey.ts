// Ollama's identity key: ~/.ollama/id_ed25519, an OpenSSH "openssh-key-v1" private key (PROTOCOL.key in
// OpenSSH's sources). Only unencrypted ed25519 keys are read, as `ollama serve` writes them.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './errors.js';

const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');
// PKCS#8 wrapping of a raw 32-byte Ed25519 seed (RFC 8410): SEQUENCE { 0, { 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Largest key file read (an ed25519 key is ~400 bytes). */
const MAX_KEY_FILE_BYTES = 64 * 1024;

export interface OllamaKey {
  /** The SSH wire form of the public key, base64: the second field of id_ed25519.pub. */
  readonly publicKeyBase64: string;
  /** `ssh-ed25519 AAAA…` (what ollama.com/settings/keys wants). */
  readonly publicKeyLine: string;
  readonly privateKey: KeyObject;
  /** Ollama's auth.Sign: `<public key base64>:<base64 of the 64-byte Ed25519 signature>`. */
  sign(data: Uint8Array): string;
}

export function defaultOllamaKeyPath(): string {
  return join(homedir(), '.ollama', 'id_ed25519');
}

class Reader {
  #offset = 0;
  constructor(
    readonly bytes: Buffer,
    readonly what: string,
  ) {}
  u32(): number {
    if (this.#offset + 4 > this.bytes.length) this.fail('truncated');
    const v = this.bytes.readUInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }
  string(): Buffer {
    const length = this.u32();
    if (length > this.bytes.length - this.#offset) this.fail('truncated string');
    const v = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return v;
  }
  fail(why: string): never {
    throw new RegistryError('ERR_REGISTRY_KEY', `${this.what}: not a usable OpenSSH ed25519 private key (${why})`);
  }
}

/** Parses an unencrypted OpenSSH ed25519 private key (PEM text). `what` names it in errors. */
export function parseOllamaKey(pem: string, what = 'key'): OllamaKey {
  const match = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(pem);
  if (match === null) throw new RegistryError('ERR_REGISTRY_KEY', `${what}: no "OPENSSH PRIVATE KEY" block`);
  const bytes = Buffer.from((match[1] as string).replace(/\s+/g, ''), 'base64');
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new RegistryError('ERR_REGISTRY_KEY', `${what}: not an openssh-key-v1 key`);
  const r = new Reader(bytes.subarray(MAGIC.length), what);
  const cipher = r.string().toString('latin1');
  const kdf = r.string().toString('latin1');
  r.string(); // kdf options
  if (cipher !== 'none' || kdf !== 'none') r.fail(`encrypted with ${cipher}/${kdf}; Ollama's key has no passphrase`);
  if (r.u32() !== 1) r.fail('expected exactly one key');
  const publicBlob = r.string();
  const priv = new Reader(r.string(), what);
  if (priv.u32() !== priv.u32()) priv.fail('check words differ');
  const type = priv.string().toString('latin1');
  if (type !== 'ssh-ed25519') priv.fail(`key type ${type}`);
  const publicKey = priv.string();
  const secret = priv.string(); // seed(32) || public(32)
  if (publicKey.length !== 32 || secret.length !== 64) priv.fail('bad ed25519 lengths');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, secret.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  // The seed must produce the stored public key, or signatures would name someone else.
  const derived = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(-32);
  if (!derived.equals(publicKey) || !secret.subarray(32).equals(publicKey)) priv.fail('public key does not match the private key');
  const publicKeyBase64 = publicBlob.toString('base64');
  return {
    publicKeyBase64,
    publicKeyLine: `ssh-ed25519 ${publicKeyBase64}`,
    privateKey,
    sign: (data) => `${publicKeyBase64}:${sign(null, data, privateKey).toString('base64')}`,
  };
}

/** Reads the key at `path`; undefined when the file does not exist. */
export async function loadOllamaKey(path = defaultOllamaKeyPath()): Promise<OllamaKey | undefined> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RegistryError('ERR_REGISTRY_KEY', `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (text.length > MAX_KEY_FILE_BYTES) throw new RegistryError('ERR_REGISTRY_KEY', `${path}: ${text.length} bytes is too large for a key`);
  return parseOllamaKey(text.toString('latin1'), path);
}
