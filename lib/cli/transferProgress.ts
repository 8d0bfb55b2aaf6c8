// Output of pull and push: `--json` streams each progress event as one JSON line on stdout (the
// shape of Ollama's /api/pull stream); on a terminal, stderr shows one line per blob with a bar,
// redrawn in place as Ollama's CLI does; otherwise nothing until the summary.
import type { TransferProgress } from '../registry/progress.js';
import { integerFlag, parseCommandArgs, UsageError, type Command } from './usage.js';

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

function human(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(0)} KB`;
  return `${bytes} B`;
}

function line(event: TransferProgress): string {
  if (event.total === undefined || event.digest === undefined) return event.status;
  const total = event.total;
  const done = Math.min(event.completed ?? 0, total);
  const fraction = total === 0 ? 1 : done / total;
  const filled = Math.round(fraction * BAR_WIDTH);
  const note = event.outcome === undefined || event.outcome === 'downloaded' || event.outcome === 'uploaded' ? '' : ` (${event.outcome})`;
  return `${event.status} ${String(Math.floor(fraction * 100)).padStart(3)}% ▕${'█'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}▏ ${human(done)}/${human(total)}${note}`;
}

export interface TransferOutput {
  readonly onProgress: ((event: TransferProgress) => void) | undefined;
  /** Draws the last state (TTY) before the summary or the error. */
  finish(): void;
}

export function transferOutput(mode: { json: boolean; tty: boolean }, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): TransferOutput {
  if (mode.json) {
    return { onProgress: (event) => void out.write(`${JSON.stringify(event)}\n`), finish: () => undefined };
  }
  if (!mode.tty) return { onProgress: undefined, finish: () => undefined };
  // One row per blob (by digest) or status line, in order of first appearance.
  const rows: Array<{ key: string; text: string }> = [];
  let drawn = 0;
  let last = 0;
  const draw = () => {
    last = Date.now();
    if (drawn === -1) return;
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    err.write(`${up}${rows.map((r) => `${r.text}\x1b[K`).join('\n')}\n`);
    drawn = rows.length;
  };
  return {
    onProgress: (event) => {
      const key = event.digest ?? event.status;
      const row = rows.find((r) => r.key === key);
      if (row === undefined) rows.push({ key, text: line(event) });
      else row.text = line(event);
      if (row === undefined || event.outcome !== undefined || Date.now() - last >= REDRAW_MS) draw();
    },
    finish: () => {
      if (rows.length > 0 && drawn !== -1) draw();
      drawn = -1; // once: the summary or the error follows
    },
  };
}

/** Aborts `controller` on the first Ctrl-C (a second one kills as usual); returns the remover. */
export function abortOnInterrupt(controller: AbortController, what: string): () => void {
  const onSigint = () => controller.abort(Object.assign(new Error(`${what} interrupted; run the same command again to resume`), { code: 'ERR_INTERRUPTED' }));
  process.once('SIGINT', onSigint);
  return () => process.removeListener('SIGINT', onSigint);
}

/** The options both transfer commands hand to pull() / push(). */
export interface TransferCommandOptions {
  insecure: boolean;
  signal: AbortSignal;
  store?: string;
  concurrency?: number;
  onProgress?: (event: TransferProgress) => void;
}

/**
 * `pull` and `push`: the same flags, help layout, Ctrl-C handling and progress output; `transfer`
 * does the work and `report` prints its result (a JSON line with --json, a sentence otherwise).
 */
export function transferCommand<R>(spec: {
  name: 'pull' | 'push';
  summary: string;
  /** Help lines between the summary and the flags. */
  about: string[];
  /** How Ollama's registry key is used, the help's last line. */
  keyNote: string;
  transfer(name: string, options: TransferCommandOptions): Promise<R>;
  report(result: R, json: boolean): void;
}): Command {
  const command: Command = {
    name: spec.name,
    summary: spec.summary,
    usage: `gguf-forge ${spec.name} NAME [--insecure] [--models DIR] [--concurrency N] [--json]`,
    async run(argv) {
      const { values, positionals } = parseCommandArgs(
        argv,
        { insecure: { type: 'boolean' }, models: { type: 'string' }, concurrency: { type: 'string' }, json: { type: 'boolean' } },
        command,
      );
      if (values.help) {
        process.stdout.write(
          [
            `Usage: ${command.usage}`,
            '',
            `${command.summary}.`,
            ...spec.about,
            '',
            '  --insecure       allow http:// and unverified TLS (a local registry)',
            '  --models DIR     the store (default $OLLAMA_MODELS, else ~/.ollama/models)',
            '  --concurrency N  parallel transfers at most (default 16; a pull opens more only while they help)',
            '  --json           progress events and the result as JSON lines on stdout',
            '',
            'Credentials: GGUF_FORGE_REGISTRY_USER and GGUF_FORGE_REGISTRY_PASSWORD (Basic, or for a token service);',
            spec.keyNote,
            '',
          ].join('\n'),
        );
        return 0;
      }
      if (positionals.length !== 1) throw new UsageError(`expected one model name\nUsage: ${command.usage}`);
      const name = positionals[0] as string;
      const json = values.json === true;
      const output = transferOutput({ json, tty: !json && process.stderr.isTTY === true });
      const controller = new AbortController();
      const stopListening = abortOnInterrupt(controller, spec.name);
      const concurrency = integerFlag(values.concurrency, 'concurrency', 1);
      try {
        const result = await spec.transfer(name, {
          insecure: values.insecure === true,
          signal: controller.signal,
          ...(typeof values.models === 'string' ? { store: values.models } : {}),
          ...(concurrency === undefined ? {} : { concurrency }),
          ...(output.onProgress === undefined ? {} : { onProgress: output.onProgress }),
        });
        output.finish();
        spec.report(result, json);
        return 0;
      } finally {
        output.finish();
        stopListening();
      }
    },
  };
  return command;
}
