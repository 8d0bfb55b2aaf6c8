// `npm run bench`: every benchmark, each beside its reference in the same process.
import { runGgufHeaderBench } from './ggufHeader.bench.js';

const only = process.argv.slice(2);
if (only.length === 0 || only.includes('gguf-header')) await runGgufHeaderBench();
