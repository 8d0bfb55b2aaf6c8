// Output types: f32/bf16/q8_0/auto as convert_hf_to_gguf writes them, and llama-quantize file types
// in one pass equal, byte for byte, to `convert --outtype f16` followed by quantize.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { convertModel } from '../../lib/convert/convertModel.js';
import { GgmlType, ggmlTypeName } from '../../lib/gguf/ggmlTypes.js';
import { fileTypeFromName } from '../../lib/quantize/fileTypes.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { readGgufHeaderSync } from '../../lib/gguf/reader.js';
import { fp32ToBf16 } from '../../lib/quantize/halfFloat.js';
import { quantizeSync } from '../../lib/quantize/quantize.js';
import { quantizeModel } from '../../lib/quantize/quantizeModel.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { exportLlamaToHf } from './exportHf.js';
import { decode, llamaSpecs, scratch, TOKENIZERS, writeHfModel, type HfModel } from './hfFixtures.js';

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function fileType(path: string): number {
  return readGgufHeaderSync(path).metadata.find((m) => m.key === 'general.file_type')!.value as number;
}

describe.skipIf(!sharedDataAvailable)('convert_hf_to_gguf output types (stories260K in HF form, F32 source)', () => {
  const dir = join(scratch, 'stories260K');
  beforeAll(async () => exportLlamaToHf(sharedData('gguf', 'models', 'stories260K.gguf'), dir));

  test('bf16: matrices rounded to BF16 as gguf-py does, norms kept F32', async () => {
    const out = join(scratch, 'stories-bf16.gguf');
    await convertModel(dir, out, { outType: 'bf16' });
    expect(fileType(out)).toBe(32);
    using a = MappedGguf.open(sharedData('gguf', 'models', 'stories260K.gguf'));
    using b = MappedGguf.open(out);
    for (const t of a.header.tensors) {
      const u = b.tensor(t.name)!;
      const values = decode(a.tensorData(t), GgmlType.F32);
      if (t.shape.length === 1) {
        expect(u.type).toBe(GgmlType.F32);
        continue;
      }
      expect([t.name, u.type]).toEqual([t.name, GgmlType.BF16]);
      if (t.name.endsWith('attn_q.weight') || t.name.endsWith('attn_k.weight')) continue; // row order checked by the round trip
      expect(Buffer.from(b.tensorData(u)).equals(Buffer.from(fp32ToBf16(values).buffer))).toBe(true);
    }
  });

  test('q8_0: quantized from the F32 values; rows that are not whole blocks (172) fall back to F16', async () => {
    const out = join(scratch, 'stories-q8.gguf');
    await convertModel(dir, out, { outType: 'q8_0' });
    expect(fileType(out)).toBe(7);
    using a = MappedGguf.open(sharedData('gguf', 'models', 'stories260K.gguf'));
    using b = MappedGguf.open(out);
    for (const t of a.header.tensors) {
      const u = b.tensor(t.name)!;
      if (t.shape.length === 1) expect(u.type).toBe(GgmlType.F32);
      else if ((t.shape[0] as number) % 32 !== 0) expect([t.name, u.type]).toEqual([t.name, GgmlType.F16]);
      else {
        expect([t.name, u.type]).toEqual([t.name, GgmlType.Q8_0]);
        if (t.name.endsWith('attn_q.weight') || t.name.endsWith('attn_k.weight')) continue;
        const want = quantizeSync('Q8_0', decode(a.tensorData(t), GgmlType.F32), { rows: t.shape[1] as number, cols: t.shape[0] as number });
        expect(Buffer.from(b.tensorData(u)).equals(Buffer.from(want))).toBe(true);
      }
    }
    expect(b.tensor('blk.0.ffn_down.weight')!.type).toBe(GgmlType.F16);
  });

  test('auto picks f16 when no 2-D tensor is BF16 or F16', async () => {
    const out = join(scratch, 'stories-auto.gguf');
    const r = await convertModel(dir, out, { outType: 'auto' });
    expect([r.outType, fileType(out)]).toEqual(['f16', 1]);
  });
});

describe.skipIf(!sharedDataAvailable)('file types: one pass equals convert --outtype f16 then quantize', () => {
  let model: HfModel;
  beforeAll(async () => {
    // 256-wide rows for the k-quants, 320-wide ffn_down rows for their fallbacks, vocabulary cut to 512.
    const shape = { vocab: 512, hidden: 256, ff: 320, layers: 2, heads: 4, kvHeads: 2 };
    model = await writeHfModel(
      'tiny-llama',
      { architectures: ['LlamaForCausalLM'], hidden_size: 256, intermediate_size: 320, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 512, rms_norm_eps: 1e-5, bos_token_id: 1, eos_token_id: 2 },
      llamaSpecs(shape),
      { tokenizer: TOKENIZERS.llama2, seed: 3 },
    );
  });

  test.each(['Q4_K_M', 'Q6_K', 'IQ4_XS', 'Q4_0', 'Q3_K_S', 'Q5_K_M'])('%s', async (type) => {
    const viaF16 = join(scratch, `via-f16-${type}.gguf`);
    const f16 = join(scratch, `f16-${type}.gguf`);
    await convertModel(model.dir, f16, { outType: 'f16' });
    await quantizeModel(f16, viaF16, type, { threads: 2 });
    const outDir = join(scratch, `direct-${type}`);
    const direct = join(outDir, 'model.gguf');
    mkdirSync(outDir);
    const r = await convertModel(model.dir, direct, { outType: type, threads: 2 });
    // Nothing but the output was written: no F16 file in between, no temp file left.
    expect(readdirSync(outDir)).toEqual(['model.gguf']);
    const a = readFileSync(viaF16);
    const b = readFileSync(direct);
    const at = a.findIndex((v, i) => v !== b[i]);
    expect(at, `first difference at byte ${at}`).toBe(-1);
    expect(b.length).toBe(a.length);
    expect(r.tensors.map((t) => t.type)).toContain(ggmlTypeName(fileTypeFromName(type)!.defaultType));
  });
});
