// The Modelfile module's public surface: parse (Ollama's ParseFile), turn into a create request (Ollama's
// CreateRequest), print (Ollama's `show --modelfile`).
export { ModelfileError } from './errors.js';
export type { ModelfileErrorCode, ModelfileLocation } from './errors.js';
export { MESSAGE_ROLES, MODELFILE_COMMANDS } from './types.js';
export type {
  CommandPosition,
  MessageCommand,
  MessageRole,
  Modelfile,
  ModelfileCommand,
  ModelfileCommandName,
  ParameterCommand,
  ValueCommand,
} from './types.js';
export { parseModelfile, readModelfile, scanModelfile, commandPosition } from './parse.js';
export type { ParseModelfileOptions } from './parse.js';
export { decodeModelfileBytes } from './text.js';
export { PARAMETER_KINDS, DEPRECATED_PARAMETERS, parameterKind, parseParameter } from './parameters.js';
export type { ParameterKind, ParameterValue } from './parameters.js';
export { isGoSemver, normalizeRequires } from './semver.js';
export { parseGoInt64, parseGoBool, parseGoFloat32, float32AsShortestDouble, formatGoFloat } from './goNumbers.js';
export type { GoFloat32Result } from './goNumbers.js';
export { modelfileToRequest, expandModelfilePath } from './request.js';
export type { ModelfileRequest, ModelfileRequestOptions, ModelfileSource, ExpandPathOptions } from './request.js';
export { formatModelfile, formatModelfileCommand, modelfileForShow } from './format.js';
export type { FormatModelfileOptions, ShowModelfileInput } from './format.js';
