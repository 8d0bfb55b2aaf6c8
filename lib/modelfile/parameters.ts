// PARAMETER names and types: the JSON tags of Ollama's api.Options and api.Runner structs, typed by the
// Go field kind exactly as api.FormatParams does (ollama/ollama api/types.go). Names are case-sensitive.
import { ModelfileError } from './errors.js';
import type { ModelfileLocation } from './errors.js';
import { float32AsShortestDouble, parseGoBool, parseGoFloat32, parseGoInt64 } from './goNumbers.js';

export type ParameterKind = 'int' | 'float' | 'bool' | 'stringList';

export const PARAMETER_KINDS: Readonly<Record<string, ParameterKind>> = Object.freeze({
  // api.Runner
  num_ctx: 'int',
  num_batch: 'int',
  num_gpu: 'int',
  main_gpu: 'int', // *int
  use_mmap: 'bool', // *bool
  num_thread: 'int',
  draft_num_predict: 'int',
  // api.Options
  num_keep: 'int',
  seed: 'int',
  num_predict: 'int',
  top_k: 'int',
  top_p: 'float',
  min_p: 'float',
  typical_p: 'float',
  repeat_last_n: 'int',
  temperature: 'float',
  repeat_penalty: 'float',
  presence_penalty: 'float',
  frequency_penalty: 'float',
  stop: 'stringList',
});

/** Names Ollama still accepts with any value but skips, printing `warning: parameter <name> is deprecated`. */
export const DEPRECATED_PARAMETERS: readonly string[] = Object.freeze([
  'penalize_newline',
  'low_vram',
  'f16_kv',
  'logits_all',
  'vocab_only',
  'use_mlock',
  'mirostat',
  'mirostat_tau',
  'mirostat_eta',
]);

/**
 * A typed parameter value. Ints are int64: a number when safe, else a bigint. Floats are rounded to
 * float32 as Ollama does and held as the double nearest their shortest decimal (0.7, not
 * 0.699999988079071), so any float64 JSON encoder prints the digits Go prints for the float32.
 * `stop` (the only list) collects one string per PARAMETER line.
 */
export type ParameterValue = number | bigint | boolean | string[];

export function parameterKind(name: string): ParameterKind | undefined {
  return Object.hasOwn(PARAMETER_KINDS, name) ? PARAMETER_KINDS[name] : undefined;
}

/**
 * One `PARAMETER name value` typed like api.FormatParams; `stop` gives a one-element list. Throws
 * ModelfileError ERR_MODELFILE_PARAMETER (with `where`) for an unknown name or a value of the wrong
 * type. Deprecated names are the caller's business (they are unknown here).
 */
export function parseParameter(name: string, value: string, where: ModelfileLocation = {}): ParameterValue {
  const kind = parameterKind(name);
  const fail = (expected: string, why = '') =>
    new ModelfileError(
      'ERR_MODELFILE_PARAMETER',
      `expected ${expected} for PARAMETER ${name} but found ${JSON.stringify(value)}${why}`,
      where,
    );
  switch (kind) {
    case undefined:
      throw new ModelfileError(
        'ERR_MODELFILE_PARAMETER',
        `expected a known parameter name (${Object.keys(PARAMETER_KINDS).join(', ')}) but found ${JSON.stringify(name)}`,
        where,
      );
    case 'int': {
      const n = parseGoInt64(value);
      if (n === undefined) throw fail('a 64-bit decimal integer');
      return n;
    }
    case 'float': {
      const f = parseGoFloat32(value);
      if (!f.ok) {
        const why =
          f.reason === 'range' ? ' (beyond float32)' : f.reason === 'special' ? ' (Ollama cannot encode Inf or NaN in JSON)' : '';
        throw fail('a finite float32 number', why);
      }
      return float32AsShortestDouble(f.value);
    }
    case 'bool': {
      const b = parseGoBool(value);
      if (b === undefined) throw fail('a bool (true, false, 1, 0, t, f, TRUE, FALSE, True, False, T, F)');
      return b;
    }
    case 'stringList':
      return [value];
  }
}
