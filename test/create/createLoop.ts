// Child process for the crash test: creates models into one store without end, so that a SIGKILL at a
// random moment lands somewhere inside a create (copying, quantizing, writing small blobs, the
// manifest, the cleanup of a replaced manifest). Prints `ready`, then each status line as it happens.
// Usage: node --import tsx test/create/createLoop.ts STORE_ROOT GGUF [F16_GGUF_TO_QUANTIZE]
import { create } from '../../lib/create/create.js';

const [root, gguf, f16] = process.argv.slice(2) as [string, string, string | undefined];
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const name = `m${i % 4}`;
  let modelfile = `FROM ${gguf}\nSYSTEM run ${i}\nPARAMETER seed ${i}\nLICENSE licence ${i % 3}\n`;
  if (i % 5 === 4) modelfile = `FROM m${(i + 1) % 4}\nSYSTEM derived ${i}\nMESSAGE user hello ${i}\n`;
  const quantize = f16 !== undefined && i % 3 === 2;
  if (quantize) modelfile = `FROM ${f16}\nSYSTEM quantized ${i}\n`;
  try {
    await create(name, {
      modelfile,
      models: root,
      link: i % 2 === 1,
      pull: false, // a FROM model an earlier run never finished is simply missing here
      ...(quantize ? { quantize: 'Q4_K_M' } : {}),
      onProgress: (p) => {
        if (p.total === undefined) process.stdout.write(`${p.status}\n`);
      },
    });
  } catch (error) {
    // FROM a model an earlier (killed) run never finished: expected, go on.
    if ((error as { code?: string }).code !== 'ERR_CREATE_FROM_MODEL') throw error;
  }
}
