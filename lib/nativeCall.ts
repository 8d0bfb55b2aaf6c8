// How a kernel call reaches the caller: native errors carry the caller's stack, and an async job
// (a libuv worker with a cancel flag) becomes a promise that an AbortSignal stops. Shared by every
// module that calls the addon's kernels (quantize, gemm).
import { abortReason } from './abort.js';
import { invalidArgument } from './argumentError.js';

/** Gives a native error the stack of the caller's call site, captured before the native call. */
export function withCallerStack(error: unknown, callSite: Error): unknown {
  if (error instanceof Error && callSite.stack) {
    const frames = callSite.stack.split('\n').slice(1).join('\n');
    error.stack = `${error.name}: ${error.message}\n${frames}`;
  }
  return error;
}

/** Runs a synchronous kernel call; an error it throws gets the stack of `callSite`. */
export function callSync<T>(callSite: Error, run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw withCallerStack(err, callSite);
  }
}

type NativeCallback = (error: Error | null, cancelled: boolean) => void;

/**
 * Starts an async kernel job and resolves with `result` when it is done. `signal` cancels it: the
 * promise then rejects with `signal.reason`. Arguments must have been checked already; an aborted
 * signal rejects before the job starts.
 */
function runNativeJob<T>(callSite: Error, signal: AbortSignal | undefined, start: (done: NativeCallback) => { cancel(): void }, result: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    let cancel: (() => void) | undefined;
    const onAbort = () => cancel?.();
    const task = start((error, cancelled) => {
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(withCallerStack(error, callSite));
      else if (cancelled && signal) reject(abortReason(signal));
      else resolve(result);
    });
    cancel = () => task.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The async face of a kernel call: reads and checks `options.signal`, then `plan()`s the call (both
 * may throw a TypeError or RangeError) and starts the job. Every failure arrives as a rejection,
 * argument errors before any native work.
 */
export function planNativeJob<P, T>(
  callSite: Error,
  options: unknown,
  plan: () => P,
  start: (plan: P, done: NativeCallback) => { cancel(): void },
  result: (plan: P) => T,
): Promise<T> {
  let planned: P;
  let signal: AbortSignal | undefined;
  try {
    const given = (options as { signal?: unknown } | undefined)?.signal;
    if (given !== undefined && !(given instanceof AbortSignal)) invalidArgument(TypeError, 'an AbortSignal', 'signal', given, 'ERR_INVALID_ARG_TYPE');
    signal = given;
    planned = plan();
  } catch (err) {
    return Promise.reject(err);
  }
  return runNativeJob(callSite, signal, (done) => start(planned, done), result(planned));
}
