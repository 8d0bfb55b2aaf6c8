// Ollama model names (types/model/name.go): `[scheme://][host/][namespace/]model[:tag]`, defaults
// registry.ollama.ai / library / latest / https, and the per-part character rules that also keep
// every part a safe single path component (no "/", "\", "%", NUL, no leading "." so never "..").
import { StoreError } from './errors.js';

export const DEFAULT_HOST = 'registry.ollama.ai';
export const DEFAULT_NAMESPACE = 'library';
export const DEFAULT_TAG = 'latest';
export const DEFAULT_SCHEME = 'https';

export const MAX_HOST_LENGTH = 350;
export const MAX_PART_LENGTH = 80;

export interface ModelName {
  readonly host: string;
  readonly namespace: string;
  readonly model: string;
  readonly tag: string;
  /** Only used to reach a registry (`http://` for an insecure one); never part of a path. */
  readonly scheme: string;
}

export type NamePart = 'host' | 'namespace' | 'model' | 'tag';

const MISSING = '';

function isWordByte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

/** Why `s` is not a valid `kind` part (Go's isValidPart), or undefined when it is. */
export function namePartProblem(kind: NamePart, s: string): string | undefined {
  if (s === MISSING) return `${kind} is empty`;
  const max = kind === 'host' ? MAX_HOST_LENGTH : MAX_PART_LENGTH;
  if (s.length > max) return `${kind} is longer than ${max} characters`;
  if (!isWordByte(s.charCodeAt(0))) return `${kind} ${JSON.stringify(s)} must start with a letter, digit or "_"`;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isWordByte(c) || c === 0x2d /* - */) continue;
    if (c === 0x2e /* . */ && kind !== 'namespace') continue;
    if (c === 0x3a /* : */ && kind === 'host') continue;
    const allowed = kind === 'host' ? 'letters, digits, "_", "-", "." and ":"' : kind === 'namespace' ? 'letters, digits, "_" and "-"' : 'letters, digits, "_", "-" and "."';
    return `${kind} ${JSON.stringify(s)} may only contain ${allowed}`;
  }
  return undefined;
}

export function isValidNamePart(kind: NamePart, s: string): boolean {
  return namePartProblem(kind, s) === undefined;
}

/** strings.LastIndex cut where an empty side becomes MISSING (Go's cutPromised marks it "!MISSING!"). */
function cutLast(s: string, sep: string): [before: string, after: string] | undefined {
  const i = s.lastIndexOf(sep);
  return i < 0 ? undefined : [s.slice(0, i), s.slice(i + sep.length)];
}

interface BareName {
  host?: string;
  namespace?: string;
  model: string;
  tag?: string;
  scheme?: string;
}

/** ParseNameBare: tag after the last ":" if it follows the last "/", then model, namespace, host. */
function parseBare(input: string): BareName {
  let s = input;
  let tag: string | undefined;
  if (s.lastIndexOf(':') > s.lastIndexOf('/')) {
    const [before, after] = cutLast(s, ':') as [string, string];
    s = before;
    tag = after;
  }
  const modelCut = cutLast(s, '/');
  if (modelCut === undefined) return { model: s, tag };
  const [rest, model] = modelCut;
  const nsCut = cutLast(rest, '/');
  if (nsCut === undefined) return { namespace: rest, model, tag };
  const [hostPart, namespace] = nsCut;
  const schemeAt = hostPart.indexOf('://');
  if (schemeAt < 0) return { host: hostPart, namespace, model, tag };
  // Go's Merge fills an empty host after "scheme://" with the default, unlike an empty part elsewhere.
  return { scheme: hostPart.slice(0, schemeAt), host: hostPart.slice(schemeAt + 3) || undefined, namespace, model, tag };
}

function looksLikePath(input: string): boolean {
  return (
    input.startsWith('/') ||
    input.startsWith('\\') ||
    input.startsWith('~') ||
    /^[A-Za-z]:[\\/]/.test(input) ||
    input.includes('\\') ||
    input.includes('%') ||
    input.includes('\0') ||
    input.split(/[/\\]/).some((segment) => segment === '..' || segment === '.')
  );
}

/** The reason `input` is not a valid model name, or undefined. */
export function modelNameProblem(input: string): string | undefined {
  if (typeof input !== 'string') return `expected a string but received ${typeof input}`;
  if (input.includes('@')) return '"@digest" references are not accepted';
  const bare = parseBare(input);
  const name = withDefaults(bare);
  const problems: string[] = [];
  for (const kind of ['host', 'namespace', 'model', 'tag'] as const) {
    const problem = namePartProblem(kind, name[kind]);
    if (problem !== undefined) problems.push(problem);
  }
  if (problems.length === 0) return undefined;
  const reason = problems.join('; ');
  return looksLikePath(input) ? `${reason} (a path, not a name: traversal is refused)` : reason;
}

function withDefaults(bare: BareName): ModelName {
  // Go's Merge: empty parts take the default; a separator with nothing on one side stays invalid.
  const missing = (value: string | undefined, fallback: string) => (value === undefined ? fallback : value === '' ? MISSING : value);
  return {
    host: missing(bare.host, DEFAULT_HOST),
    namespace: missing(bare.namespace, DEFAULT_NAMESPACE),
    model: bare.model,
    tag: missing(bare.tag, DEFAULT_TAG),
    scheme: bare.scheme === undefined || bare.scheme === '' ? DEFAULT_SCHEME : bare.scheme,
  };
}

/**
 * Parses and fills in defaults: `llama3.2` → registry.ollama.ai/library/llama3.2:latest. Throws a
 * StoreError ERR_STORE_NAME ("invalid model name: …") for anything Ollama's ParseName would not
 * make fully qualified, which includes every path-like input (`../x`, `/abs`, `%2e%2e`, `a\b`).
 */
export function parseModelName(input: string): ModelName {
  const problem = modelNameProblem(input);
  if (problem !== undefined) {
    throw new StoreError('ERR_STORE_NAME', `invalid model name: ${JSON.stringify(input)}: ${problem}`, { model: String(input) });
  }
  return withDefaults(parseBare(input));
}

export function isValidModelName(input: string): boolean {
  return modelNameProblem(input) === undefined;
}

/** A name from its four parts, checked part by part (ERR_STORE_NAME). */
export function modelNameFromParts(parts: { host: string; namespace: string; model: string; tag: string; scheme?: string }): ModelName {
  for (const kind of ['host', 'namespace', 'model', 'tag'] as const) {
    const problem = namePartProblem(kind, parts[kind]);
    if (problem !== undefined) throw new StoreError('ERR_STORE_NAME', `invalid model name: ${problem}`, { model: `${parts.host}/${parts.namespace}/${parts.model}:${parts.tag}` });
  }
  return { host: parts.host, namespace: parts.namespace, model: parts.model, tag: parts.tag, scheme: parts.scheme ?? DEFAULT_SCHEME };
}

/** host/namespace/model:tag (Go's Name.String, without the scheme). */
export function formatModelName(name: ModelName): string {
  return `${name.host}/${name.namespace}/${name.model}:${name.tag}`;
}

/** What `ollama list` prints: default host dropped, `library/` dropped under it, tag always shown. */
export function displayShortest(name: ModelName): string {
  const eq = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  let prefix = '';
  if (!eq(name.host, DEFAULT_HOST)) prefix = `${name.host}/${name.namespace}/`;
  else if (!eq(name.namespace, DEFAULT_NAMESPACE)) prefix = `${name.namespace}/`;
  return `${prefix}${name.model}:${name.tag}`;
}

/** The manifest's path components below `manifests/`: [host, namespace, model, tag]. */
export function manifestPathParts(name: ModelName): [string, string, string, string] {
  return [name.host, name.namespace, name.model, name.tag];
}

/** ParseNameFromFilepath: exactly four components, each valid, else undefined. */
export function modelNameFromPathParts(parts: readonly string[]): ModelName | undefined {
  if (parts.length !== 4) return undefined;
  const [host, namespace, model, tag] = parts as [string, string, string, string];
  if (!isValidNamePart('host', host) || !isValidNamePart('namespace', namespace) || !isValidNamePart('model', model) || !isValidNamePart('tag', tag)) {
    return undefined;
  }
  return { host, namespace, model, tag, scheme: DEFAULT_SCHEME };
}

/** Same model under Ollama's case-insensitive comparison (parts are ASCII, so ASCII folding is EqualFold). */
export function modelNamesEqualFold(a: ModelName, b: ModelName): boolean {
  const eq = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
  return eq(a.host, b.host) && eq(a.namespace, b.namespace) && eq(a.model, b.model) && eq(a.tag, b.tag);
}
