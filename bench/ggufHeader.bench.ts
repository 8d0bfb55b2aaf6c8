// GGUF header parsing: gguf-forge's readGgufHeader vs @huggingface/gguf's gguf() on the largest
// vocabulary GGUF in ../shared/data/gguf (same process, same file, tinybench). llama.cpp's own
// reader (gguf_init_from_file through koffi, dumped into JS values) is a third, labelled row when
// its library loads. Goal: ours ≥ 10× faster than @huggingface/gguf.
//
//   npx tsx bench/ggufHeader.bench.ts [FILE.gguf] [--json]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gguf } from '@huggingface/gguf';
import { Bench } from 'tinybench';
import { readGgufHeader } from '../lib/gguf/reader.js';
import { sharedData } from '../test/sharedData.js';
import { ggufReferenceAvailable, referenceReadGguf } from '../test/reference/ggufReference.js';

export const GGUF_DATA_DIR = sharedData('gguf');

export interface GgufHeaderBenchRow {
  name: string;
  meanMs: number;
  p99Ms: number;
  samples: number;
  /** mean(this) / mean(gguf-forge): how many times slower than ours (1 for ours). */
  vsOurs: number;
}

export interface GgufHeaderBenchResult {
  file: string;
  fileBytes: number;
  tokens: number;
  rows: GgufHeaderBenchRow[];
  /** mean(@huggingface/gguf) / mean(gguf-forge). */
  speedupVsHuggingface: number;
  /** mean(@huggingface/gguf) / mean(gguf-forge with every string decoded): the like-for-like figure. */
  speedupVsHuggingfaceDecoded: number;
  goalMet: boolean;
}

/** The GGUF under `dir` with the most tokenizer.ggml.tokens (ties: larger file). */
export async function largestVocabGguf(dir = GGUF_DATA_DIR): Promise<{ path: string; tokens: number }> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.gguf')) files.push(p);
    }
  };
  walk(dir);
  let best: { path: string; tokens: number; size: number } | undefined;
  for (const path of files) {
    let tokens: number;
    try {
      const h = await readGgufHeader(path);
      const e = h.metadata.find((m) => m.key === 'tokenizer.ggml.tokens');
      tokens = e && typeof e.value === 'object' && 'items' in e.value ? e.value.items.length : 0;
    } catch {
      continue; // e.g. a GGUF v1 file
    }
    const size = statSync(path).size;
    if (!best || tokens > best.tokens || (tokens === best.tokens && size > best.size)) best = { path, tokens, size };
  }
  if (!best) throw new Error(`no readable GGUF file under ${dir}`);
  return { path: best.path, tokens: best.tokens };
}

export async function runGgufHeaderBench(options: { file?: string; time?: number; print?: boolean } = {}): Promise<GgufHeaderBenchResult> {
  const { path: file, tokens } = options.file
    ? { path: options.file, tokens: -1 }
    : await largestVocabGguf();
  const time = options.time ?? 2000;
  const bench = new Bench({ time, warmupTime: 300 });
  const OURS = 'gguf-forge readGgufHeader';
  // Our string arrays decode on first access; this row touches every one, like the eager parsers.
  const OURS_DECODED = 'gguf-forge readGgufHeader + decode every string array';
  const HF = '@huggingface/gguf gguf()';
  const LLAMA = 'llama.cpp gguf_init_from_file + dump via koffi (reference, not a JS parser)';
  // Sanity: both parsers see the same number of keys and tensors before anything is timed.
  const ours = await readGgufHeader(file);
  const theirs = await gguf(file, { allowLocalFile: true });
  const theirKeys = Object.keys(theirs.metadata).filter((k) => k !== 'version' && k !== 'tensor_count' && k !== 'kv_count').length;
  if (theirKeys !== ours.metadata.length || theirs.tensorInfos.length !== ours.tensors.length) {
    throw new Error(`parsers disagree on ${file}: ours ${ours.metadata.length} keys/${ours.tensors.length} tensors, @huggingface/gguf ${theirKeys}/${theirs.tensorInfos.length}`);
  }
  bench.add(OURS, async () => {
    await readGgufHeader(file);
  });
  bench.add(OURS_DECODED, async () => {
    const header = await readGgufHeader(file);
    for (const m of header.metadata) {
      if (typeof m.value === 'object' && 'items' in m.value && m.value.items.length > 0) void m.value.items[0];
    }
  });
  bench.add(HF, async () => {
    await gguf(file, { allowLocalFile: true });
  });
  const withLlama = ggufReferenceAvailable();
  if (withLlama) {
    bench.add(LLAMA, () => {
      referenceReadGguf(file);
    });
  }
  await bench.run();

  const mean = (name: string): { meanMs: number; p99Ms: number; samples: number } => {
    const r = bench.getTask(name)?.result;
    if (!r || !('latency' in r)) throw new Error(`benchmark ${name} did not complete: ${r ? r.state : 'missing'}`);
    return { meanMs: r.latency.mean, p99Ms: r.latency.p99, samples: r.latency.samplesCount };
  };
  const o = mean(OURS);
  const rows: GgufHeaderBenchRow[] = [{ name: OURS, ...o, vsOurs: 1 }];
  const d = mean(OURS_DECODED);
  rows.push({ name: OURS_DECODED, ...d, vsOurs: d.meanMs / o.meanMs });
  const h = mean(HF);
  rows.push({ name: HF, ...h, vsOurs: h.meanMs / o.meanMs });
  if (withLlama) {
    const l = mean(LLAMA);
    rows.push({ name: LLAMA, ...l, vsOurs: l.meanMs / o.meanMs });
  }
  const fileBytes = statSync(file).size;
  const result: GgufHeaderBenchResult = {
    file,
    fileBytes,
    tokens: tokens >= 0 ? tokens : countTokens(ours),
    rows,
    speedupVsHuggingface: h.meanMs / o.meanMs,
    speedupVsHuggingfaceDecoded: h.meanMs / d.meanMs,
    goalMet: h.meanMs / o.meanMs >= 10,
  };
  if (options.print ?? true) printResult(result);
  return result;
}

function countTokens(h: Awaited<ReturnType<typeof readGgufHeader>>): number {
  const e = h.metadata.find((m) => m.key === 'tokenizer.ggml.tokens');
  return e && typeof e.value === 'object' && 'items' in e.value ? e.value.items.length : 0;
}

export function printResult(r: GgufHeaderBenchResult): void {
  console.log(`GGUF header parse: ${r.file} (${(r.fileBytes / 1048576).toFixed(2)} MiB, ${r.tokens} tokens), Node ${process.version}`);
  console.table(
    r.rows.map((row) => ({
      parser: row.name,
      'mean (ms)': Number(row.meanMs.toFixed(3)),
      'p99 (ms)': Number(row.p99Ms.toFixed(3)),
      samples: row.samples,
      'time vs gguf-forge': `${row.vsOurs.toFixed(2)}×`,
    })),
  );
  console.log(
    `gguf-forge is ${r.speedupVsHuggingface.toFixed(1)}× faster than @huggingface/gguf (goal ≥ 10×: ${r.goalMet ? 'met' : 'NOT met'}); ` +
      `${r.speedupVsHuggingfaceDecoded.toFixed(1)}× with every string decoded`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const file = args.find((a) => !a.startsWith('--'));
  const result = await runGgufHeaderBench({ ...(file ? { file } : {}), print: !json });
  if (json) console.log(JSON.stringify(result, null, 2));
}
