// Shared output of the commands that write a GGUF tensor by tensor (quantize, convert, merge-lora):
// Ctrl-C aborts the job (which leaves no file), a one-line progress display on a TTY, the summary.

/** Runs `job` with a signal that Ctrl-C aborts; the handler is removed when the job settles. */
export async function interruptible<T>(job: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  try {
    return await job(controller.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(2)} MiB`;
}

/** Redraws the progress line: `[  12/201] blk.0.attn_q.weight  Q4_K  12.00 MiB`. */
export function writeTensorProgress(p: { tensor: number; tensors: number; name: string; type: string }, detail: string): void {
  process.stderr.write(`\r[${String(p.tensor).padStart(4)}/${p.tensors}] ${p.name.padEnd(36)} ${p.type.padEnd(7)} ${detail}\x1b[K`);
}

/** `Q4_K 150, Q6_K 30, F32 45`: how many tensors have each type, in order of first appearance. */
export function tensorTypeCounts(types: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${name} ${n}`).join(', ');
}
