// Progress events of pull and push: Ollama's api.ProgressResponse fields (status, digest, total,
// completed) with its exact status strings, so `--json` output reads like `ollama pull`'s stream.

export type BlobOutcome =
  /** Pull: the store already had it. */
  | 'cached'
  /** Pull: fetched (or finished fetching) from the registry. */
  | 'downloaded'
  /** Push: the registry already had it in this repository. */
  | 'skipped'
  /** Push: linked from another repository of the registry (`from`), no bytes sent. */
  | 'mounted'
  /** Push: its bytes were sent. */
  | 'uploaded';

export interface TransferProgress {
  /**
   * `pulling manifest`, `pulling <12 hex>`, `verifying sha256 digest`, `writing manifest`,
   * `removing unused layers`, `success` (pull); `retrieving manifest`, `pushing <12 hex>`,
   * `pushing manifest`, `success` (push).
   */
  readonly status: string;
  /** `sha256:<hex>` for blob events. */
  readonly digest?: string;
  readonly total?: number;
  readonly completed?: number;
  /** Set on a blob's last event. */
  readonly outcome?: BlobOutcome;
}

export type ProgressListener = (progress: TransferProgress) => void;

/**
 * Calls `listener` for a blob at most every `intervalMs`, always for the first and the final event;
 * an update held back is delivered when the interval ends, so a transfer that pauses still shows
 * where it paused.
 */
export function throttledBlobProgress(listener: ProgressListener | undefined, status: string, digest: string, total: number, intervalMs: number) {
  let last = -Infinity;
  let sent = -1;
  let latest = -1;
  let timer: NodeJS.Timeout | undefined;
  const emit = () => {
    timer = undefined;
    if (listener === undefined || latest === sent) return;
    last = Date.now();
    sent = latest;
    listener({ status, digest, total, completed: latest });
  };
  return {
    update(completed: number): void {
      if (listener === undefined) return;
      latest = completed;
      if (Date.now() - last >= intervalMs || completed >= total) {
        if (timer !== undefined) clearTimeout(timer);
        emit();
      } else if (timer === undefined) {
        timer = setTimeout(emit, Math.max(0, last + intervalMs - Date.now()));
        timer.unref();
      }
    },
    done(outcome: BlobOutcome): void {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      listener?.({ status, digest, total, completed: total, outcome });
    },
  };
}

/** `pulling 6a0746a1ec1a`: the first 12 hex digits (Ollama's digest[7:19]). */
export function shortDigest(digest: string): string {
  return digest.slice(7, 19);
}
