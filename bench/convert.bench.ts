// Conversion speed and memory beside `cp` of the same bytes: a generated 1.1 B-parameter BF16 Llama
// checkpoint (TinyLlama-1.1B's real config, Llama 2 tokenizer) converted to F16 in a child process,
// timed with /usr/bin/time (wall seconds, peak RSS). Run: node --import tsx test/convert/convertBench.ts [DIR]
// (DIR defaults to a temp folder; ~7 GB of disk). Not a vitest test: it is minutes of I/O.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSafetensorsHeader } from '../../lib/safetensors/writer.js';
import { sharedData } from '../sharedData.js';
import { TOKENIZERS } from './hfFixtures.js';

const root = process.argv[2] ?? join(tmpdir(), 'gguf-forge-convert-bench');
const modelDir = join(root, 'TinyLlama-1.1B-Chat-v1.0');
const out = join(root, 'out-f16.gguf');
const copy = join(root, 'copy.safetensors');

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

function generate(): number {
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

interface Timing {
  seconds: number;
  cpu: number;
  maxRssMiB: number;
}

function run(cmd: string, args: string[]): Timing {
  try {
    execFileSync('/usr/bin/time', ['-o', join(root, 'time.txt'), '-f', '%e %U %S %M', cmd, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (e) {
    throw new Error(`${cmd} failed: ${(e as Error).message}`);
  }
  const [sec, user, sys, kb] = readFileSync(join(root, 'time.txt'), 'utf8').trim().split(/\s+/).map(Number);
  return { seconds: sec as number, cpu: (user as number) + (sys as number), maxRssMiB: (kb as number) / 1024 };
}

const show = (t: Timing) => `${t.seconds.toFixed(2)} s (cpu ${t.cpu.toFixed(2)} s, rss ${t.maxRssMiB.toFixed(0)} MiB)`;

const params = generate();
const bytes = params * 2;
console.log(`checkpoint: ${(params / 1e9).toFixed(3)} B parameters, ${(bytes / 2 ** 30).toFixed(2)} GiB BF16 in ${modelDir}`);
const child = join(root, 'child.mts');
writeFileSync(
  child,
  `import { convertModel } from ${JSON.stringify(join(process.cwd(), 'lib/convert/convertModel.ts'))};\n` +
    `const r = await convertModel(${JSON.stringify(modelDir)}, ${JSON.stringify(out)}, { outType: 'f16' });\n` +
    `console.log('convert: ' + r.tensors.length + ' tensors, ' + (r.outputBytes / 2 ** 30).toFixed(2) + ' GiB in ' + r.seconds.toFixed(2) + ' s');\n`,
);
// Warm the page cache the same way for both: one read of the source first.
execFileSync('sh', ['-c', `cat ${join(modelDir, 'model.safetensors')} > /dev/null`], { stdio: 'inherit' });
const rounds = Number(process.env.ROUNDS ?? 2);
const src = join(modelDir, 'model.safetensors');
for (let r = 0; r < rounds; r++) {
  rmSync(out, { force: true });
  rmSync(copy, { force: true });
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  // cp copies inside the kernel (copy_file_range); dd moves every byte through user space as a
  // converter must. Both are synced to disk, as the converter's output is (it fsyncs before rename).
  const cp = run('sh', ['-c', `cp ${src} ${copy} && sync ${copy}`]);
  rmSync(copy, { force: true });
  const dd = run('sh', ['-c', `dd if=${src} of=${copy} bs=8M status=none && sync ${copy}`]);
  rmSync(copy, { force: true });
  const conv = run(process.execPath, ['--import', 'tsx', child]);
  console.log(
    `round ${r + 1} (load ${load}): cp+sync ${show(cp)} | dd bs=8M+sync ${show(dd)} | convert bf16->f16 ${show(conv)} | ` +
      `convert/cp ${(conv.seconds / cp.seconds).toFixed(2)}x, convert/dd ${(conv.seconds / dd.seconds).toFixed(2)}x`,
  );
}
rmSync(copy, { force: true });
rmSync(out, { force: true });
