// Output shared by the store commands (create, list, show, cp, rm, prune, verify): the --models flag,
// Ollama's borderless tables, and a one-line progress bar that is drawn only on a terminal.
import { humanBytes } from '../create/ollamaFormat.js';
import { openStore, type ModelStore } from '../store/store.js';

/** The `--models DIR` option every store command takes. */
export const MODELS_OPTION = { models: { type: 'string' } } as const;

export const MODELS_HELP = 'The store is --models DIR, else $OLLAMA_MODELS, else ~/.ollama/models (as Ollama).';

export function storeFromFlag(models: unknown): Promise<ModelStore> {
  return openStore(typeof models === 'string' ? { root: models } : {});
}

/**
 * Rows as Ollama's tablewriter prints them (no border, no header line, columns left-aligned and
 * separated by four spaces); trailing blanks are dropped.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, [...cell].length)));
  return rows.map((row) => row.map((cell, i) => cell + ' '.repeat((widths[i] ?? 0) - [...cell].length)).join('    ').trimEnd()).join('\n');
}

/**
 * Status lines go to `out`; a step with a size draws a bar on stderr while it runs, but only when
 * stderr is a terminal (redrawn at most ten times a second, erased before the next line).
 */
export class StatusDisplay {
  readonly #out: NodeJS.WritableStream;
  readonly #tty: boolean;
  #barShown = false;
  #lastDraw = 0;

  constructor(out: NodeJS.WritableStream = process.stdout, tty: boolean = process.stderr.isTTY === true) {
    this.#out = out;
    this.#tty = tty;
  }

  bar(status: string, completed: number, total: number): void {
    if (!this.#tty) return;
    const now = Date.now();
    if (completed < total && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    const fraction = total > 0 ? Math.min(1, completed / total) : 1;
    const width = 25;
    const filled = Math.round(fraction * width);
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    process.stderr.write(`\r${status} ${percent} ▕${'█'.repeat(filled)}${' '.repeat(width - filled)}▏ ${humanBytes(completed)}/${humanBytes(total)}\x1b[K`);
    this.#barShown = true;
  }

  line(text: string): void {
    this.clear();
    this.#out.write(`${text}\n`);
  }

  clear(): void {
    if (this.#barShown) {
      process.stderr.write('\r\x1b[K');
      this.#barShown = false;
    }
  }
}
