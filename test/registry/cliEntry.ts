// pull and push as the CLI runs them (exit 0 ok, 1 failure, 2 usage), for tests, until main.ts lists them:
// `node --import tsx test/registry/cliEntry.ts pull|push ARGS…`.
import { pullCommand } from '../../lib/cli/pull.js';
import { pushCommand } from '../../lib/cli/push.js';
import { UsageError } from '../../lib/cli/usage.js';

const [name, ...rest] = process.argv.slice(2);
const command = [pullCommand, pushCommand].find((c) => c.name === name);
if (command === undefined) throw new Error(`unknown command ${name}`);
try {
  process.exitCode = await command.run(rest);
} catch (error) {
  const code = (error as { code?: string }).code;
  process.stderr.write(`gguf-forge ${command.name}: ${(error as Error).message}${code ? ` [${code}]` : ''}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
