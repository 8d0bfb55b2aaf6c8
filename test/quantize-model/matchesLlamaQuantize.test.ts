// quantizeModel() against llama.cpp's own llama_model_quantize (libllama of the pinned
// @node-llama-cpp/linux-x64, through koffi): for every file type, on synthetic models that reach
// each per-tensor rule and on the real stories260K, with and without an importance matrix, the
// two output files must be byte-identical.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { FILE_TYPE_NAMES, fileTypeFromName } from '../../lib/quantize/fileTypes.js';
import { readImatrix } from '../../lib/quantize/imatrix.js';
import { quantizeModel, type QuantizeModelOptions } from '../../lib/quantize/quantizeModel.js';
import { GgmlType } from '../../lib/gguf/ggmlTypes.js';
import { readGgufSync } from '../../lib/gguf/ggufInfo.js';
import { MappedGguf } from '../../lib/gguf/mappedGguf.js';
import { GgufValueType } from '../../lib/gguf/types.js';
import { writeGguf } from '../../lib/gguf/writer.js';
import { loadLlamaQuantize, llamaQuantizeUnavailableReason, type LlamaQuantizeParams } from '../reference/llamaQuantize.js';
import { sharedData, sharedDataAvailable } from '../sharedData.js';
import { SYNTHETIC_MODELS, describeDifference, modelPath, workDir, writeGgufImatrix, writeLegacyImatrix, type TestModel } from './modelFixtures.js';

const ref = loadLlamaQuantize();
if (!ref) console.warn(`model quantization: skipping comparisons with llama.cpp: ${llamaQuantizeUnavailableReason()}`);
const STORIES: TestModel = { name: 'stories260K', options: {} };
const MODELS = [...SYNTHETIC_MODELS, ...(sharedDataAvailable ? [STORIES] : [])];

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function inputOf(model: TestModel): Promise<string> {
  return model === STORIES ? sharedData('gguf', 'models', 'stories260K.gguf') : modelPath(model);
}

let serial = 0;
/** Quantizes with both, compares the files, and removes them. */
async function expectSameAsLlama(input: string, type: string, ours: QuantizeModelOptions, theirs: Omit<LlamaQuantizeParams, 'ftype'>): Promise<void> {
  const n = serial++;
  const expectedFile = join(workDir, `ref-${n}.gguf`);
  const actualFile = join(workDir, `ours-${n}.gguf`);
  try {
    const status = ref!.quantize(input, expectedFile, { ...theirs, ftype: fileTypeFromName(type)!.ftype });
    expect(status, 'llama_model_quantize status').toBe(0);
    await quantizeModel(input, actualFile, type, ours);
    const same = readFileSync(expectedFile).equals(readFileSync(actualFile));
    expect(same, same ? '' : describeDifference(expectedFile, actualFile)).toBe(true);
  } finally {
    rmSync(expectedFile, { force: true });
    rmSync(actualFile, { force: true });
  }
}

describe.skipIf(!ref)('quantizeModel equals llama_model_quantize', () => {
  for (const model of MODELS) {
    describe(model.name, () => {
      test.each(FILE_TYPE_NAMES)('%s', async (type) => {
        await expectSameAsLlama(await inputOf(model), type, { threads: 2 }, { threads: 2 });
      });
      test.each(FILE_TYPE_NAMES)('%s with an imatrix (GGUF format)', async (type) => {
        const input = await inputOf(model);
        const file = await writeGgufImatrix(input, join(workDir, `${model.name}.imatrix.gguf`));
        const imatrix = readImatrix(file);
        await expectSameAsLlama(input, type, { threads: 1, imatrix: file }, { threads: 1, imatrix });
      });
    });
  }

  test.each(['Q4_K_M', 'IQ4_XS', 'Q4_0', 'Q2_K'])('%s with a legacy .dat imatrix', async (type) => {
    const input = await modelPath(SYNTHETIC_MODELS[0] as TestModel);
    const file = writeLegacyImatrix(input, join(workDir, 'legacy.imatrix.dat'));
    await expectSameAsLlama(input, type, { imatrix: file }, { imatrix: readImatrix(file) });
  });

  test('overrides: --tensor-type, --output-tensor-type, --token-embedding-type', async () => {
    const input = await modelPath(SYNTHETIC_MODELS[0] as TestModel);
    await expectSameAsLlama(
      input,
      'Q4_K_M',
      { tensorTypes: ['ATTN_V=q8_0', 'ffn_(up|gate)=Q5_K', 'blk\\.1\\.=q4_0'], outputTensorType: 'Q8_0', tokenEmbeddingType: 'q5_0' },
      {
        tensorTypes: [['attn_v', GgmlType.Q8_0], ['ffn_(up|gate)', GgmlType.Q5_K], ['blk\\.1\\.', GgmlType.Q4_0]],
        outputTensorType: GgmlType.Q8_0,
        tokenEmbeddingType: GgmlType.Q5_0,
      },
    );
  });

  test.each(['Q4_K_M', 'Q3_K_M', 'IQ4_NL'])('%s with --pure and --leave-output-tensor', async (type) => {
    const input = await modelPath(SYNTHETIC_MODELS[4] as TestModel);
    await expectSameAsLlama(input, type, { pure: true }, { pure: true });
    await expectSameAsLlama(input, type, { leaveOutputTensor: true }, { leaveOutputTensor: true });
  });

  test('an input carrying general.alignment = 64 keeps it, as llama.cpp does', async () => {
    const input = await modelPath(SYNTHETIC_MODELS[0] as TestModel);
    const info = readGgufSync(input);
    const model = MappedGguf.open(input);
    const aligned = join(workDir, 'aligned64.gguf');
    try {
      const metadata = [...info.metadata, { key: 'general.alignment', type: GgufValueType.UINT32, value: 64 }];
      await writeGguf(aligned, metadata, info.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, data: model.tensorData(t).slice() })));
    } finally {
      model.close();
    }
    await expectSameAsLlama(aligned, 'Q8_0', {}, {});
  });

  test('requantizing a Q8_0 file with allowRequantize', async () => {
    const input = await modelPath(SYNTHETIC_MODELS[1] as TestModel);
    const q8 = join(workDir, 'requant-q8.gguf');
    await quantizeModel(input, q8, 'Q8_0');
    await expectSameAsLlama(q8, 'Q4_K_M', { allowRequantize: true }, { allowRequantize: true });
  });
});
