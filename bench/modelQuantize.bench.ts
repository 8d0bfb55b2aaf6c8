// Whole-model quantization, gguf-forge's quantizeModel beside llama.cpp's llama_model_quantize (libllama of
// @node-llama-cpp/linux-x64 through koffi, run on a worker thread) in the same process, same threads, on a
// 1.1 B-parameter Llama-shaped F16 GGUF (TinyLlama's shapes: n_embd 2048, 22 layers, 32 heads / 4 KV heads,
// n_ff 5632, vocab 32000; seeded random weights) generated once and kept in the temp folder.
// Prints wall time, ratio, and memory of each run: peak anonymous RSS above the run's start (what the
// process allocates, without the page cache of the mapped input) and peak total RSS. Checks the files match.
//   npx tsx bench/modelQuantize.bench.ts [--types Q4_K_M,Q8_0,Q4_0] [--threads 2] [--model PATH] [--json]
import { createReadStream, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { fileTypeFromName } from '../lib/quantize/fileTypes.js';
import { quantizeModel } from '../lib/quantize/quantizeModel.js';
import { writeSyntheticLlama } from '../lib/synthetic/llamaModel.js';
import { loadLlamaQuantize, llamaQuantizeUnavailableReason } from '../test/reference/llamaQuantize.js';

export const TINYLLAMA = { embd: 2048, layers: 22, heads: 32, kvHeads: 4, ff: 5632, vocab: 32000, type: 'F16' as const, seed: 1234, name: 'bench-1.1b' };

function rssKb(): { anon: number; total: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { anon: field('RssAnon'), total: field('VmRSS') };
}

/** Runs `job` while sampling RSS every 20 ms; returns seconds and peaks in MB. */
async function measured(job: () => Promise<void>): Promise<{ seconds: number; peakAnonMB: number; peakRssMB: number }> {
  const base = rssKb();
  let peakAnon = base.anon;
  let peakTotal = base.total;
  const timer = setInterval(() => {
    const r = rssKb();
    peakAnon = Math.max(peakAnon, r.anon);
    peakTotal = Math.max(peakTotal, r.total);
  }, 20);
  const t0 = performance.now();
  try {
    await job();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  const r = rssKb();
  return { seconds, peakAnonMB: (Math.max(peakAnon, r.anon) - base.anon) / 1024, peakRssMB: Math.max(peakTotal, r.total) / 1024 };
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function modelQuantizeBenchMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { types: { type: 'string' }, threads: { type: 'string' }, model: { type: 'string' }, json: { type: 'boolean' } } });
  const types = (values.types ?? 'Q4_K_M,Q8_0,Q4_0').split(',');
  const threads = Number(values.threads ?? 2);
  const ref = loadLlamaQuantize();
  if (!ref) {
    console.error(`model-quantize: llama.cpp reference unavailable: ${llamaQuantizeUnavailableReason()}`);
    return 1;
  }
  const model = values.model ?? join(tmpdir(), 'gguf-forge-bench-llama-1.1b-f16.gguf');
  if (!existsSync(model)) {
    console.error(`generating ${model} (1.1 B parameters, F16) once…`);
    const t0 = performance.now();
    const { parameters } = await writeSyntheticLlama(model, TINYLLAMA);
    console.error(`  ${parameters} parameters in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.error(`model ${model}: ${(statSync(model).size / 1e9).toFixed(2)} GB, ${threads} threads`);
  const rows: Record<string, unknown>[] = [];
  let mismatch = false;
  for (const type of types) {
    const ftype = fileTypeFromName(type);
    if (!ftype) throw new RangeError(`unknown type ${type}`);
    const theirsFile = join(tmpdir(), `gguf-forge-bench-ref-${ftype.name}.gguf`);
    const oursFile = join(tmpdir(), `gguf-forge-bench-ours-${ftype.name}.gguf`);
    // Warm the page cache so neither side pays for the first read of the input.
    await sha256(model);
    const theirs = await measured(
      () =>
        new Promise<void>((resolve, reject) => {
          ref.quantizeAsync(model, theirsFile, { ftype: ftype.ftype, threads }, (err, status) => {
            if (err) reject(err);
            else if (status !== 0) reject(new Error(`llama_model_quantize returned ${status}`));
            else resolve();
          });
        }),
    );
    const ours = await measured(async () => {
      await quantizeModel(model, oursFile, ftype.name, { threads });
    });
    const same = (await sha256(theirsFile)) === (await sha256(oursFile));
    mismatch ||= !same;
    rows.push({
      type: ftype.name,
      llamaSeconds: +theirs.seconds.toFixed(2),
      oursSeconds: +ours.seconds.toFixed(2),
      speedup: +(theirs.seconds / ours.seconds).toFixed(2),
      llamaPeakAnonMB: Math.round(theirs.peakAnonMB),
      oursPeakAnonMB: Math.round(ours.peakAnonMB),
      llamaPeakRssMB: Math.round(theirs.peakRssMB),
      oursPeakRssMB: Math.round(ours.peakRssMB),
      identical: same,
    });
    rmSync(theirsFile, { force: true });
    rmSync(oursFile, { force: true });
  }
  if (values.json) console.log(JSON.stringify({ model, threads, rows }));
  else {
    console.log('| type | llama_model_quantize s | gguf-forge s | speed-up | llama.cpp peak anon MB | ours peak anon MB | llama.cpp peak RSS MB | ours peak RSS MB | identical |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of rows) console.log(`| ${Object.values(r).join(' | ')} |`);
  }
  return mismatch ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await modelQuantizeBenchMain(process.argv.slice(2));
}
