// The CLI from source, for tests: `node --import tsx test/cli/cliEntry.ts ARGS…` (a script file,
// because `node -e … inspect` would start Node's own debugger).
import { main } from '../../lib/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
