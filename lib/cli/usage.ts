// Shared pieces of every command: the usage error (exit 2), argument parsing, JSON output.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the command was called; main() prints it with the help hint and exits 2. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedCommandArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

/** node:util parseArgs with strict flags (plus -h/--help), turning its errors into UsageError. */
export function parseCommandArgs(argv: string[], options: Options, command: Command): ParsedCommandArgs {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nUsage: ${command.usage}`);
  }
}

/** Prints one JSON document on stdout (the only thing --json writes there): indented on a terminal, compact when piped. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, process.stdout.isTTY ? 2 : undefined)}\n`);
}

/** An integer flag value >= min, or undefined when the flag was not given; UsageError otherwise. */
export function integerFlag(value: string | boolean | Array<string | boolean> | undefined, name: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(value)}'`);
  return n;
}
