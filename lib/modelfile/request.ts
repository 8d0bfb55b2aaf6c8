// From parsed commands to what `ollama create` sends: Ollama's parser/parser.go
// `Modelfile.CreateRequest(relativeDir)`, command by command and failing at the same first command,
// minus the hashing (the create pipeline reads the files; this only says which ones).
import { readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ModelfileError } from './errors.js';
import type { ModelfileLocation } from './errors.js';
import { DEPRECATED_PARAMETERS, parameterKind, parseParameter } from './parameters.js';
import type { ParameterValue } from './parameters.js';
import { commandPosition } from './parse.js';
import { normalizeRequires } from './semver.js';
import type { Modelfile, ModelfileCommand } from './types.js';

/** A FROM/ADAPTER/DRAFT value that names something on disk. */
export interface ModelfileSource {
  /** Absolute path after expansion (`~`, relative to the Modelfile's folder). */
  path: string;
  kind: 'file' | 'directory';
  /** The value as the Modelfile wrote it. */
  written: string;
}

export interface ModelfileRequest {
  /** A model name: the last FROM that is not an existing path, kept as written. */
  from?: string;
  /**
   * FROM values that exist on disk, in order, each path once (Ollama merges them: split GGUF, projector).
   * Folders are not searched here (that is the converter's job). With `from` also set, Ollama's server
   * uses `from` and ignores these.
   */
  files?: ModelfileSource[];
  /** The last ADAPTER (Ollama replaces, it does not add). */
  adapter?: ModelfileSource;
  draftFiles?: ModelfileSource[];
  /** Last one wins; an empty value is left out, as Go's `omitempty` leaves it out of the request. */
  template?: string;
  system?: string;
  renderer?: string;
  parser?: string;
  /** Normalised without the `v`. */
  requires?: string;
  /** One entry per LICENSE, in order. */
  license?: string[];
  /** Typed (see ParameterValue); `stop` lines accumulate, other repeats: last wins. */
  parameters?: Record<string, ParameterValue>;
  messages?: Array<{ role: string; content: string }>;
  /** What Ollama prints as `warning: ...` (deprecated parameters, which it skips). */
  warnings: string[];
}

export interface ModelfileRequestOptions {
  /** Overrides the Modelfile's baseDir; default: its baseDir, else the cwd. */
  baseDir?: string;
  /** Home folder for `~` (default os.homedir()). */
  homeDir?: string;
  /** Home folder of another user for `~user` (default: the password database on POSIX). */
  userHome?: (user: string) => string | undefined;
}

export interface ExpandPathOptions {
  baseDir?: string;
  homeDir?: string;
  userHome?: (user: string) => string | undefined;
}

/**
 * parser.go expandPathImpl: absolute (or starting with `/` or `\`) → made absolute against the cwd;
 * `~` and `~/x` → the home folder; `~user/x` → that user's home; anything else → relative to baseDir.
 * Throws ERR_MODELFILE_PATH for an unknown `~user`.
 */
export function expandModelfilePath(value: string, options: ExpandPathOptions = {}, where: ModelfileLocation = {}): string {
  if (isAbsolute(value) || value.startsWith('/') || value.startsWith('\\')) return resolve(value);
  if (value.startsWith('~')) {
    if (value === '~' || value.startsWith('~/')) return resolve(join(options.homeDir ?? homedir(), value.slice(1)));
    const slash = value.indexOf('/');
    const user = slash < 0 ? value.slice(1) : value.slice(1, slash);
    const home = (options.userHome ?? homeOfUser)(user);
    if (home === undefined) {
      throw new ModelfileError('ERR_MODELFILE_PATH', `expected ${JSON.stringify(`~${user}`)} to name a user of this machine, found none`, where);
    }
    return resolve(join(home, slash < 0 ? '' : value.slice(slash)));
  }
  return resolve(options.baseDir ?? '', value);
}

/** Go's user.Lookup on POSIX: the password database (only /etc/passwd here; NSS sources are not consulted). */
function homeOfUser(user: string): string | undefined {
  try {
    if (userInfo().username === user) return homedir();
  } catch {
    // no entry for the current uid: fall through to the file
  }
  if (process.platform === 'win32') return undefined;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === user && fields.length >= 7) return fields[5];
    }
  } catch {
    // unreadable: unknown user
  }
  return undefined;
}

function locate(command: ModelfileCommand, part: 'command' | 'name' | 'value'): ModelfileLocation {
  const p = commandPosition(command);
  if (p === undefined) return {};
  const spot = part === 'name' ? (p.name ?? p) : part === 'value' ? p.value : p;
  return p.file === undefined ? { line: spot.line, column: spot.column } : { file: p.file, line: spot.line, column: spot.column };
}

function describeStatError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${e.code ?? e.message})`;
}

/**
 * The create request a Modelfile stands for, with Ollama's rules: a FROM that does not exist on disk
 * (ENOENT) is a model name; any other stat failure, a missing ADAPTER or DRAFT, a DRAFT that is the
 * same file as a FROM, an unknown or mistyped parameter or a bad REQUIRES is an error (ModelfileError,
 * positioned when the Modelfile came from parseModelfile).
 */
export async function modelfileToRequest(modelfile: Modelfile, options: ModelfileRequestOptions = {}): Promise<ModelfileRequest> {
  const expand: ExpandPathOptions = { baseDir: options.baseDir ?? modelfile.baseDir ?? process.cwd() };
  if (options.homeDir !== undefined) expand.homeDir = options.homeDir;
  if (options.userHome !== undefined) expand.userHome = options.userHome;

  const request: ModelfileRequest = { warnings: [] };
  const files: ModelfileSource[] = [];
  const drafts: ModelfileSource[] = [];
  const licenses: string[] = [];
  const messages: Array<{ role: string; content: string }> = [];
  const parameters: Record<string, ParameterValue> = {};
  let template = '';
  let system = '';
  let renderer = '';
  let parser = '';

  const source = async (command: ModelfileCommand & { value: string }, missingIsName: boolean): Promise<ModelfileSource | undefined> => {
    const where = locate(command, 'value');
    const path = expandModelfilePath(command.value, expand, where);
    try {
      const info = await stat(path);
      return { path, kind: info.isDirectory() ? 'directory' : 'file', written: command.value };
    } catch (err) {
      if (missingIsName && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ModelfileError(
        'ERR_MODELFILE_PATH',
        `expected ${command.command} ${JSON.stringify(command.value)} to be a file or folder, but ${describeStatError(err)} (${path})`,
        where,
        { cause: err },
      );
    }
  };
  // DRAFT must not be the very file or folder a FROM is (compared after following links).
  const rejectSame = async (command: ModelfileCommand, path: string, others: ModelfileSource[]) => {
    const canonical = await realpath(path);
    for (const other of others) {
      if ((await realpath(other.path)) === canonical) {
        throw new ModelfileError('ERR_MODELFILE_PATH', `expected DRAFT to name a different local path than FROM, found ${path} in both`, locate(command, 'value'));
      }
    }
  };

  for (const command of modelfile.commands) {
    switch (command.command) {
      case 'FROM': {
        const found = await source(command, true);
        if (found === undefined) {
          request.from = command.value;
          break;
        }
        await rejectSame(command, found.path, drafts);
        if (!files.some((f) => f.path === found.path)) files.push(found);
        break;
      }
      case 'DRAFT': {
        const found = (await source(command, false)) as ModelfileSource;
        await rejectSame(command, found.path, files);
        if (!drafts.some((f) => f.path === found.path)) drafts.push(found);
        break;
      }
      case 'ADAPTER':
        request.adapter = (await source(command, false)) as ModelfileSource;
        break;
      case 'TEMPLATE':
        template = command.value;
        break;
      case 'SYSTEM':
        system = command.value;
        break;
      case 'RENDERER':
        renderer = command.value;
        break;
      case 'PARSER':
        parser = command.value;
        break;
      case 'LICENSE':
        licenses.push(command.value);
        break;
      case 'REQUIRES': {
        const requires = normalizeRequires(command.value);
        if (requires === undefined) {
          throw new ModelfileError(
            'ERR_MODELFILE_REQUIRES',
            `expected REQUIRES to be a semantic version such as 0.14.0 but found ${JSON.stringify(command.value)}`,
            locate(command, 'value'),
          );
        }
        request.requires = requires;
        break;
      }
      case 'MESSAGE':
        messages.push({ role: command.role, content: command.content });
        break;
      case 'PARAMETER': {
        if (DEPRECATED_PARAMETERS.includes(command.name)) {
          request.warnings.push(`parameter ${command.name} is deprecated`);
          break;
        }
        const where = locate(command, parameterKind(command.name) === undefined ? 'name' : 'value');
        const value = parseParameter(command.name, command.value, where);
        const known = parameters[command.name];
        parameters[command.name] = Array.isArray(known) && Array.isArray(value) ? [...known, ...value] : value;
        break;
      }
    }
  }

  if (files.length > 0) request.files = files;
  if (drafts.length > 0) request.draftFiles = drafts;
  if (template !== '') request.template = template;
  if (system !== '') request.system = system;
  if (renderer !== '') request.renderer = renderer;
  if (parser !== '') request.parser = parser;
  if (licenses.length > 0) request.license = licenses;
  if (Object.keys(parameters).length > 0) request.parameters = parameters;
  if (messages.length > 0) request.messages = messages;
  return request;
}
