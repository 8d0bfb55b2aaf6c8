// Timing of whole commands for the I/O benchmarks (create, convert): each command runs as a child
// under /usr/bin/time (wall seconds, CPU, peak RSS), grouped by command after one untimed warm-up.
// Grouping matters on virtual machines such as the development one: there the first user-space
// write after a large copy was deleted runs 2-3x slower (perf: the time is in
// copy_folio_from_iter_atomic, page cache pages the host has to back again), so alternating two
// commands would charge each for the other's deleted output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Timing {
  seconds: number;
  cpu: number;
  maxRssMiB: number;
}

const timeDir = mkdtempSync(join(tmpdir(), 'gguf-forge-timing-'));
process.on('exit', () => rmSync(timeDir, { recursive: true, force: true }));

/** Runs `cmd args` to completion under /usr/bin/time; its stdout is discarded, stderr shown. */
export function timeCommand(cmd: string, args: string[]): Timing {
  const file = join(timeDir, 'time.txt');
  try {
    execFileSync('/usr/bin/time', ['-o', file, '-f', '%e %U %S %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e as Error).message}`);
  }
  const [sec, user, sys, kb] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
  return { seconds: sec as number, cpu: (user as number) + (sys as number), maxRssMiB: (kb as number) / 1024 };
}

export const showTiming = (t: Timing) => `${t.seconds.toFixed(2)} s (cpu ${t.cpu.toFixed(2)} s, rss ${t.maxRssMiB.toFixed(0)} MiB)`;

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * One untimed warm-up, then `rounds` timed runs of `once` (which runs the command and cleans up
 * after it); prints each and returns the median wall time with the runs.
 */
export function timeGroup(name: string, rounds: number, once: () => Timing): { median: number; runs: Timing[] } {
  console.log(`${name}: warm-up (not counted) ${showTiming(once())}`);
  const runs: Timing[] = [];
  for (let r = 0; r < rounds; r++) {
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const t = once();
    runs.push(t);
    console.log(`${name}: run ${r + 1} (load ${load}) ${showTiming(t)}`);
  }
  return { median: median(runs.map((t) => t.seconds)), runs };
}
