// Runs the CLI from source (lib/cli/main.ts through tsx) in a child process, as a user would run the bin.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../sharedData.js';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const entry = join(repoRoot, 'test', 'cli', 'cliEntry.ts');
  const result = spawnSync(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000, // a hung child fails the test instead of the suite
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
