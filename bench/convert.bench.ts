// Conversion speed and memory beside `cp` of the same bytes: a generated 1.1 B-parameter BF16 Llama
// checkpoint (TinyLlama-1.1B's real config, Llama 2 tokenizer) converted to F16 by `gguf-forge
// convert` (the built CLI) in a child process, timed with /usr/bin/time (wall seconds, peak RSS).
// Run: npx tsx bench/convert.bench.ts [--dir DIR] [--rounds N]
// (DIR defaults to a temp folder and keeps the checkpoint for the next run; ~7 GB of disk).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { serializeSafetensorsHeader } from '../lib/safetensors/writer.js';
import { TOKENIZERS } from '../test/convert/hfFixtures.js';
import { sharedData } from '../test/sharedData.js';
import { timeCommand, timeGroup } from './childTiming.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

function specs(c: Record<string, number>) {
  const hd = c.hidden_size! / c.num_attention_heads!;
  const kv = c.num_key_value_heads! * hd;
  const t: { name: string; dtype: 'BF16'; shape: number[] }[] = [
    { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [c.vocab_size!, c.hidden_size!] },
    { name: 'lm_head.weight', dtype: 'BF16', shape: [c.vocab_size!, c.hidden_size!] },
    { name: 'model.norm.weight', dtype: 'BF16', shape: [c.hidden_size!] },
  ];
  for (let i = 0; i < c.num_hidden_layers!; i++) {
    const p = `model.layers.${i}`;
    t.push(
      { name: `${p}.input_layernorm.weight`, dtype: 'BF16', shape: [c.hidden_size!] },
      { name: `${p}.post_attention_layernorm.weight`, dtype: 'BF16', shape: [c.hidden_size!] },
      { name: `${p}.self_attn.q_proj.weight`, dtype: 'BF16', shape: [c.hidden_size!, c.hidden_size!] },
      { name: `${p}.self_attn.k_proj.weight`, dtype: 'BF16', shape: [kv, c.hidden_size!] },
      { name: `${p}.self_attn.v_proj.weight`, dtype: 'BF16', shape: [kv, c.hidden_size!] },
      { name: `${p}.self_attn.o_proj.weight`, dtype: 'BF16', shape: [c.hidden_size!, c.hidden_size!] },
      { name: `${p}.mlp.gate_proj.weight`, dtype: 'BF16', shape: [c.intermediate_size!, c.hidden_size!] },
      { name: `${p}.mlp.up_proj.weight`, dtype: 'BF16', shape: [c.intermediate_size!, c.hidden_size!] },
      { name: `${p}.mlp.down_proj.weight`, dtype: 'BF16', shape: [c.hidden_size!, c.intermediate_size!] },
    );
  }
  return t.sort((a, b) => (a.name < b.name ? -1 : 1));
}

function generate(modelDir: string): number {
  mkdirSync(modelDir, { recursive: true });
  const config = { ...JSON.parse(readFileSync(sharedData('configs', 'TinyLlama-1.1B-Chat-v1.0', 'config.json'), 'utf8')), torch_dtype: 'bfloat16' };
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(config, null, 2));
  for (const [name, src] of Object.entries(TOKENIZERS.llama2)) if (!existsSync(join(modelDir, name))) symlinkSync(src, join(modelDir, name));
  const tensors = specs(config);
  const params = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const path = join(modelDir, 'model.safetensors');
  if (existsSync(path)) return params;
  const fd = openSync(path, 'w');
  writeSync(fd, serializeSafetensorsHeader(tensors));
  const chunk = new Uint16Array(1 << 22);
  let s = 0x12345678;
  for (const t of tensors) {
    let left = t.shape.reduce((a, b) => a * b, 1);
    const norm = t.shape.length === 1;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      for (let i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        // Weights of magnitude 2^-7..2^-5 with random signs and mantissas; norms near 1.
        chunk[i] = norm ? 0x3f80 | (s & 0x7f) : ((s >>> 16) & 0x8000) | (0x3c00 + (s & 0x1ff));
      }
      writeSync(fd, chunk, 0, n * 2);
      left -= n;
    }
  }
  closeSync(fd);
  return params;
}

export function convertBenchMain(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' }, rounds: { type: 'string' } } });
  const root = values.dir ?? join(tmpdir(), 'gguf-forge-convert-bench');
  const rounds = Number(values.rounds ?? 3);
  const modelDir = join(root, 'TinyLlama-1.1B-Chat-v1.0');
  const out = join(root, 'out-f16.gguf');
  const copy = join(root, 'copy.safetensors');
  const params = generate(modelDir);
  const bytes = params * 2;
  console.log(`checkpoint: ${(params / 1e9).toFixed(3)} B parameters, ${(bytes / 2 ** 30).toFixed(2)} GiB BF16 in ${modelDir}`);
  // The command a user runs: the CLI built into dist/ (npm install builds it through `prepare`).
  const cli = join(packageRoot, 'bin', 'gguf-forge.js');
  if (!existsSync(join(packageRoot, 'dist', 'cli', 'main.js'))) execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: packageRoot, stdio: 'inherit' });
  // Warm the page cache the same way for both: one read of the source first.
  execFileSync('sh', ['-c', `cat ${join(modelDir, 'model.safetensors')} > /dev/null`], { stdio: 'inherit' });
  const src = join(modelDir, 'model.safetensors');
  rmSync(out, { force: true });
  rmSync(copy, { force: true });
  // cp copies inside the kernel (copy_file_range); cp+sync also waits for the disk, as the converter
  // does (it fsyncs before the rename). Runs are grouped by command (bench/childTiming.ts says why).
  const copyRun = (sync: boolean) => () => {
    const t = timeCommand('sh', ['-c', sync ? `cp ${src} ${copy} && sync ${copy}` : `cp ${src} ${copy}`]);
    rmSync(copy, { force: true });
    return t;
  };
  const plainCp = timeGroup('cp', rounds, copyRun(false));
  const cp = timeGroup('cp+sync', rounds, copyRun(true));
  const conv = timeGroup('gguf-forge convert --outtype f16', rounds, () => {
    const t = timeCommand(process.execPath, [cli, 'convert', modelDir, out, '--outtype', 'f16']);
    rmSync(out, { force: true });
    return t;
  });
  console.log(`\nmedians of ${rounds}: cp ${plainCp.median.toFixed(2)} s, cp+sync ${cp.median.toFixed(2)} s, convert ${conv.median.toFixed(2)} s`);
  console.log(`convert / cp+sync   ${(conv.median / cp.median).toFixed(2)}x (goal <= 1.5x: both put the bytes on disk)`);
  console.log(`convert / cp        ${(conv.median / plainCp.median).toFixed(2)}x (cp leaves its copy in the page cache)`);
  console.log(`convert peak RSS    ${Math.max(...conv.runs.map((t) => t.maxRssMiB)).toFixed(0)} MiB (goal <= 300)`);
  rmSync(copy, { force: true });
  rmSync(out, { force: true });
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = convertBenchMain(process.argv.slice(2));
}
