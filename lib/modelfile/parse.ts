// The Modelfile reader. It is the state machine of Ollama's parser/parser.go `ParseFile`, rune for rune,
// so it accepts and rejects exactly the same files and yields the same values, including the quirks:
// `#` starts a comment only where a command may start; no escapes inside quotes; a quoted value ends
// only at a line break whose line, trimmed, closes the quote; control and other non-printable runes
// are dropped except tab, CR and LF inside values; `\r` alone is a line break too. Only the positions
// differ: Ollama counts CRLF as two lines and reports the line after a bad line break, we report the
// line and column of the character at fault.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ModelfileError } from './errors.js';
import { decodeModelfileBytes } from './text.js';
import { MESSAGE_ROLES, MODELFILE_COMMANDS } from './types.js';
import type { CommandPosition, Modelfile, ModelfileCommand, ValueCommand } from './types.js';

export interface ParseModelfileOptions {
  /** Named in error messages; its folder becomes `baseDir` unless that is given. */
  filename?: string;
  /** Folder that relative FROM/ADAPTER/DRAFT paths start from (Ollama: the Modelfile's folder). */
  baseDir?: string;
}

interface Position {
  line: number;
  column: number;
}

const positions = new WeakMap<ModelfileCommand, CommandPosition>();

/** Where `parseModelfile` found this command (undefined for commands built by hand). */
export function commandPosition(command: ModelfileCommand): CommandPosition | undefined {
  return positions.get(command);
}

const COMMAND_NAMES = new Set<string>(MODELFILE_COMMANDS.map((c) => c.toLowerCase()));
const ROLES = new Set<string>(MESSAGE_ROLES);
const COMMAND_LIST = MODELFILE_COMMANDS.join(', ');

/**
 * Reads a Modelfile. Bytes are decoded the way Ollama does (a UTF-8 BOM is dropped, UTF-16 with a BOM is
 * decoded, invalid UTF-8 becomes U+FFFD); a string is taken as already decoded. Throws ModelfileError.
 */
export function parseModelfile(source: string | Uint8Array, options: ParseModelfileOptions = {}): Modelfile {
  const text = typeof source === 'string' ? source.replace(/^\uFEFF/, '') : decodeModelfileBytes(source);
  const commands = scanModelfile(text, options.filename);
  if (!commands.some((c) => c.command === 'FROM')) {
    throw new ModelfileError(
      'ERR_MODELFILE_NO_FROM',
      'expected a FROM command naming the base model (a model name or a path) but the Modelfile has none',
      options.filename === undefined ? {} : { file: options.filename },
    );
  }
  const modelfile: Modelfile = { commands };
  const baseDir = options.baseDir ?? (options.filename === undefined ? undefined : dirname(resolve(options.filename)));
  if (baseDir !== undefined) modelfile.baseDir = resolve(baseDir);
  return modelfile;
}

/** Reads and parses the Modelfile at `path` (bytes, so a UTF-16 file decodes as in Ollama); its folder is the baseDir. */
export async function readModelfile(path: string): Promise<Modelfile> {
  return parseModelfile(await readFile(path), { filename: path });
}

// Lexer states, named as in parser.go.
const NIL = 0;
const NAME = 1;
const VALUE = 2;
const PARAMETER = 3;
const MESSAGE = 4;
const COMMENT = 5;

const isSpace = (c: string): boolean => c === ' ' || c === '\t';
const isNewline = (c: string): boolean => c === '\r' || c === '\n';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c: string): boolean => c >= '0' && c <= '9';

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and U+0020.
const PRINTABLE = /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u;
function isGoPrint(c: string, cp: number): boolean {
  if (cp < 0x7f) return cp >= 0x20;
  if (cp < 0xa0) return false;
  return PRINTABLE.test(c);
}

/**
 * The value being read. Ollama re-trims and re-unquotes the whole buffer at every line break; tracking
 * the first and last non-blank rune makes that check O(1), so a hostile file cannot make it quadratic.
 */
class ValueBuffer {
  private parts: string[] = [];
  private first = -1;
  private last = -1;
  start: Position = { line: 0, column: 0 };

  reset(start: Position): void {
    this.parts = [];
    this.first = -1;
    this.last = -1;
    this.start = start;
  }

  push(c: string, line: number, column: number): void {
    if (!(isSpace(c) || isNewline(c))) {
      if (this.first < 0) {
        this.first = this.parts.length;
        this.start = { line, column };
      }
      this.last = this.parts.length;
    }
    this.parts.push(c);
  }

  /** parser.go `unquote(strings.TrimSpace(b))`: the value, or undefined while a quote is still open. */
  unquoted(): string | undefined {
    const { parts: p, first: f, last: l } = this;
    if (f < 0) return '';
    const length = l - f + 1;
    // Runes past `last` are blanks, so peeking past a short value never finds a quote.
    if (p[f] === '"' && p[f + 1] === '"' && p[f + 2] === '"') {
      return length >= 6 && p[l] === '"' && p[l - 1] === '"' && p[l - 2] === '"' ? p.slice(f + 3, l - 2).join('') : undefined;
    }
    if (p[f] === '"') return length >= 2 && p[l] === '"' ? p.slice(f + 1, l).join('') : undefined;
    return p.slice(f, l + 1).join('');
  }

  opening(): string {
    const { parts: p, first: f } = this;
    return p[f] === '"' && p[f + 1] === '"' && p[f + 2] === '"' ? '"""' : '"';
  }
}

function describeRune(c: string | undefined): string {
  if (c === undefined) return 'the end of the file';
  if (isNewline(c)) return 'the end of the line';
  const cp = c.codePointAt(0) ?? 0;
  return isGoPrint(c, cp) && c !== ' ' ? `'${c}'` : `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The command list of `text` (no FROM check). Throws ModelfileError at the first syntax error. */
export function scanModelfile(text: string, file?: string): ModelfileCommand[] {
  const commands: ModelfileCommand[] = [];
  const at = (p: Position) => (file === undefined ? { line: p.line, column: p.column } : { file, line: p.line, column: p.column });

  let state = NIL;
  let word = ''; // command name, parameter name or role (printable runes only, as Ollama keeps them)
  let wordSeen = ''; // the same with every rune, for messages
  let wordAt: Position = { line: 1, column: 1 };
  let keyword = ''; // upper-case command of the line being read
  let keywordAt: Position = wordAt;
  let name = '';
  let nameAt: Position | undefined;
  const value = new ValueBuffer();
  let line = 1;
  let column = 1;

  const commandWordError = (found: string) =>
    new ModelfileError('ERR_MODELFILE_COMMAND', `expected a command (one of ${COMMAND_LIST}) but found ${JSON.stringify(found)}`, at(wordAt));
  const missingValueError = (c: string | undefined, where: Position, what: string) =>
    new ModelfileError('ERR_MODELFILE_SYNTAX', `expected a space or tab and then ${what}, but found ${describeRune(c)}`, at(where));
  const roleError = (found: string) =>
    new ModelfileError(
      'ERR_MODELFILE_ROLE',
      `expected a MESSAGE role (one of ${MESSAGE_ROLES.join(', ')}) but found ${JSON.stringify(found)}`,
      at(nameAt ?? keywordAt),
    );
  const whatFollows = (command: string) =>
    command === 'PARAMETER' ? 'a parameter name and its value' : command === 'MESSAGE' ? 'a role and its content' : `the value of ${command}`;
  // Ollama's errors here are "command must be one of ..." or a bare "unexpected EOF"; ours say what was wanted.
  const endOfWord = (c: string | undefined, where: Position): ModelfileError => {
    const tail = c !== undefined && !isNewline(c) ? c : '';
    const inLine = tail !== '';
    if (state === NAME) {
      const command = word.toUpperCase();
      if (!COMMAND_NAMES.has(word.toLowerCase())) return commandWordError(wordSeen + tail);
      return missingValueError(c, where, whatFollows(command));
    }
    if (state === PARAMETER) {
      if (inLine) {
        return new ModelfileError(
          'ERR_MODELFILE_PARAMETER',
          `expected a PARAMETER name made of letters, digits and '_' but found ${describeRune(c)} after ${JSON.stringify(wordSeen)}`,
          at(where),
        );
      }
      return missingValueError(c, where, word === '' ? 'a parameter name and its value' : `the value of PARAMETER ${word}`);
    }
    // MESSAGE role
    if (inLine || !ROLES.has(word)) return roleError(wordSeen + tail);
    return missingValueError(c, where, `the content of MESSAGE ${word}`);
  };

  const emit = (content: string) => {
    let command: ModelfileCommand;
    if (keyword === 'PARAMETER') command = { command: 'PARAMETER', name, value: content };
    else if (keyword === 'MESSAGE') command = { command: 'MESSAGE', role: name, content };
    else command = { command: keyword as ValueCommand['command'], value: content };
    const position: CommandPosition = { line: keywordAt.line, column: keywordAt.column, value: { ...value.start } };
    if (file !== undefined) position.file = file;
    if (nameAt !== undefined) position.name = { ...nameAt };
    positions.set(command, position);
    commands.push(command);
  };

  for (let i = 0; i < text.length; ) {
    // One code point; a lone surrogate stands for the U+FFFD Go would have decoded.
    let c = text[i] as string;
    const unit = c.charCodeAt(0);
    let width = 1;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      const low = text.charCodeAt(i + 1);
      if (unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
        c = text.slice(i, i + 2);
        width = 2;
      } else {
        c = '\uFFFD';
      }
    }

    // parseRuneForState: the next state and the rune to keep (undefined = none).
    let next: number;
    let keep: string | undefined;
    switch (state) {
      case NIL:
        if (c === '#') next = COMMENT;
        else if (isSpace(c) || isNewline(c)) next = NIL;
        else {
          next = NAME;
          keep = c;
          wordAt = { line, column };
        }
        break;
      case NAME:
        if (isAlpha(c)) {
          next = NAME;
          keep = c;
        } else if (isSpace(c)) next = VALUE;
        else throw endOfWord(c, { line, column });
        break;
      case VALUE:
        next = isSpace(c) || isNewline(c) ? NIL : VALUE;
        keep = c;
        break;
      case PARAMETER:
        if (isAlpha(c) || isDigit(c) || c === '_') {
          next = PARAMETER;
          keep = c;
        } else if (isSpace(c)) next = VALUE;
        else throw endOfWord(c, { line, column });
        break;
      case MESSAGE:
        if (isAlpha(c)) {
          next = MESSAGE;
          keep = c;
        } else if (isSpace(c)) next = VALUE;
        else throw endOfWord(c, { line, column });
        break;
      default: // COMMENT
        next = isNewline(c) ? NIL : COMMENT;
    }

    if (next !== state) {
      let stay = false;
      switch (state) {
        case NAME: {
          const lower = word.toLowerCase();
          if (!COMMAND_NAMES.has(lower)) throw commandWordError(wordSeen);
          keyword = lower.toUpperCase();
          keywordAt = wordAt;
          nameAt = undefined;
          if (lower === 'parameter') next = PARAMETER;
          else if (lower === 'message') next = MESSAGE;
          if (next !== VALUE) nameAt = { line, column: column + 1 };
          break;
        }
        case PARAMETER:
          name = word;
          break;
        case MESSAGE:
          if (!ROLES.has(word)) throw roleError(wordSeen);
          name = word;
          break;
        case VALUE: {
          // A blank never ends a value, and a line break ends it only once its quotes are closed.
          const content = isSpace(c) ? undefined : value.unquoted();
          if (content === undefined) {
            value.push(c, line, column);
            stay = true;
          } else {
            emit(content);
          }
          break;
        }
      }
      if (!stay) {
        word = '';
        wordSeen = '';
        state = next;
        if (next === VALUE) value.reset({ line, column: column + 1 });
      }
    }
    if (state === NAME || state === PARAMETER || state === MESSAGE) {
      if (keep !== undefined) {
        wordSeen += keep;
        if (isGoPrint(keep, keep.codePointAt(0) ?? 0)) word += keep;
      }
    } else if (state === VALUE && keep !== undefined && next === VALUE && isGoPrint(keep, keep.codePointAt(0) ?? 0)) {
      value.push(keep, line, column);
    }

    i += width;
    if (c === '\n' || (c === '\r' && text[i] !== '\n')) {
      line++;
      column = 1;
    } else {
      column++;
    }
  }

  const end: Position = { line, column };
  switch (state) {
    case NIL:
    case COMMENT:
      break;
    case VALUE: {
      const content = value.unquoted();
      if (content === undefined) {
        throw new ModelfileError(
          'ERR_MODELFILE_UNTERMINATED',
          `expected a closing ${value.opening()} for the value of ${keyword} opened here, but found the end of the file`,
          at(value.start),
        );
      }
      emit(content);
      break;
    }
    default:
      throw endOfWord(undefined, end);
  }
  return commands;
}
