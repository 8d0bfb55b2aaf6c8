// The CLI's main() in this process with stdout/stderr captured: the same code path as the bin minus
// the process start (about 0.7 s each on a 2-core runner), for tests that run many commands.
import { main } from '../../lib/cli/main.js';

export interface MainResult {
  status: number;
  stdout: string;
  stderr: string;
}

export async function runMain(args: string[]): Promise<MainResult> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}
