/**
 * Why a Modelfile was rejected. `code` is stable (scripts switch on it); `line` and `column` (1-based,
 * columns count Unicode code points, CRLF is one line break) point at what was wrong; `file` is the
 * Modelfile's name when the caller gave one.
 *
 * Codes (each also names the Ollama stage that rejects the same input):
 * - ERR_MODELFILE_COMMAND: a line starts with something that is not a command (ParseFile).
 * - ERR_MODELFILE_SYNTAX: a command lacks the space or tab and the value after it, or the file ends
 *   inside a command (ParseFile).
 * - ERR_MODELFILE_UNTERMINATED: a `"` or `"""` value is still open at the end of the file (ParseFile).
 * - ERR_MODELFILE_ROLE: MESSAGE role other than system, user or assistant (ParseFile).
 * - ERR_MODELFILE_NO_FROM: no FROM command anywhere (ParseFile).
 * - ERR_MODELFILE_PARAMETER: unknown PARAMETER name, a character a name cannot hold, or a value that is
 *   not a valid int, float or bool for its parameter (ParseFile / CreateRequest).
 * - ERR_MODELFILE_REQUIRES: REQUIRES is not a semantic version (CreateRequest).
 * - ERR_MODELFILE_PATH: a FROM, ADAPTER or DRAFT path cannot be used (CreateRequest).
 * - ERR_MODELFILE_UNREPRESENTABLE: formatModelfile was asked to print a value that no Modelfile
 *   spelling reads back unchanged.
 */
export type ModelfileErrorCode =
  | 'ERR_MODELFILE_COMMAND'
  | 'ERR_MODELFILE_SYNTAX'
  | 'ERR_MODELFILE_UNTERMINATED'
  | 'ERR_MODELFILE_ROLE'
  | 'ERR_MODELFILE_NO_FROM'
  | 'ERR_MODELFILE_PARAMETER'
  | 'ERR_MODELFILE_REQUIRES'
  | 'ERR_MODELFILE_PATH'
  | 'ERR_MODELFILE_UNREPRESENTABLE';

export interface ModelfileLocation {
  file?: string;
  line?: number;
  column?: number;
}

export class ModelfileError extends Error {
  readonly code: ModelfileErrorCode;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;

  constructor(code: ModelfileErrorCode, message: string, where: ModelfileLocation = {}, options?: { cause?: unknown }) {
    super(`${message}${describeLocation(where)}`, options);
    this.name = 'ModelfileError';
    this.code = code;
    if (where.file !== undefined) this.file = where.file;
    if (where.line !== undefined) this.line = where.line;
    if (where.column !== undefined) this.column = where.column;
  }
}

function describeLocation({ file, line, column }: ModelfileLocation): string {
  if (line === undefined) return file === undefined ? '' : ` (${file})`;
  const at = column === undefined ? `${line}` : `${line}:${column}`;
  return file === undefined ? ` (line ${at})` : ` (${file}:${at})`;
}
