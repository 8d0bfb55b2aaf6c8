/** The commands of a Modelfile, as Ollama's parser reads them (values raw, quotes removed). */

/** Roles a MESSAGE may carry in a Modelfile (Ollama's parser accepts exactly these, lower case). */
export const MESSAGE_ROLES = ['system', 'user', 'assistant'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** Command keywords, as printed (the parser matches them case-insensitively). */
export const MODELFILE_COMMANDS = [
  'FROM',
  'ADAPTER',
  'DRAFT',
  'TEMPLATE',
  'SYSTEM',
  'LICENSE',
  'RENDERER',
  'PARSER',
  'REQUIRES',
  'PARAMETER',
  'MESSAGE',
] as const;
export type ModelfileCommandName = (typeof MODELFILE_COMMANDS)[number];

/** FROM, ADAPTER, DRAFT (a model name or a path), TEMPLATE, SYSTEM, LICENSE, RENDERER, PARSER, REQUIRES. */
export interface ValueCommand {
  command: Exclude<ModelfileCommandName, 'PARAMETER' | 'MESSAGE'>;
  value: string;
}

/**
 * `PARAMETER name value`. The parser keeps the value as written (quotes removed), like Ollama's; names and
 * values are checked and typed by `modelfileToRequest` (or `parseParameter`), which is where Ollama
 * checks them too. The parser guarantees only that `name` holds letters, digits and `_` (possibly none).
 */
export interface ParameterCommand {
  command: 'PARAMETER';
  name: string;
  value: string;
}

/** `MESSAGE role content`; the parser guarantees `role` is one of MESSAGE_ROLES. */
export interface MessageCommand {
  command: 'MESSAGE';
  role: string;
  content: string;
}

export type ModelfileCommand = ValueCommand | ParameterCommand | MessageCommand;

export interface Modelfile {
  /** In file order. Repeated commands are all kept; how they combine is modelfileToRequest's business. */
  commands: ModelfileCommand[];
  /** Folder that relative FROM/ADAPTER/DRAFT paths start from (the Modelfile's folder); absent = the cwd. */
  baseDir?: string;
}

/** Where a parsed command came from, for messages about it. Lines and columns are 1-based. */
export interface CommandPosition {
  file?: string;
  /** The command keyword. */
  line: number;
  column: number;
  /** The PARAMETER name or MESSAGE role. */
  name?: { line: number; column: number };
  /** The first non-blank character of the value (its opening quote when quoted). */
  value: { line: number; column: number };
}
