import { expect, test } from 'vitest';
import {
  fileTypeName,
  fileTypeOf,
  GgmlType,
  ggmlTypeFromName,
  ggmlTypeInfo,
  ggmlTypeName,
  llamaFileTypeFromName,
  llamaFileTypeName,
  parameterCount,
} from '../../lib/gguf/ggmlTypes.js';
import { GgufValueType, type GgufTensorInfo } from '../../lib/gguf/types.js';

test('ggml type table: block sizes and bytes per block of llamacpp.md §1.4; removed ids are undefined', () => {
  expect(ggmlTypeInfo(GgmlType.Q4_K)).toEqual({ id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144 });
  expect(ggmlTypeInfo(GgmlType.Q8_0)).toMatchObject({ blockSize: 32, typeSize: 34 });
  expect(ggmlTypeInfo(GgmlType.MXFP4)).toMatchObject({ blockSize: 32, typeSize: 17 });
  expect(ggmlTypeInfo(GgmlType.NVFP4)).toMatchObject({ blockSize: 64, typeSize: 36 });
  expect(ggmlTypeInfo(GgmlType.Q2_0)).toMatchObject({ blockSize: 64, typeSize: 18 });
  for (const removed of [4, 5, 31, 32, 33, 36, 37, 38, 43, -1, 1.5]) expect(ggmlTypeInfo(removed)).toBeUndefined();
  expect(ggmlTypeName(31)).toBe('Q4_0_4_4');
  expect(ggmlTypeName(99)).toBe('UNKNOWN(99)');
  expect(ggmlTypeFromName('q4_k')).toBe(GgmlType.Q4_K);
  expect(ggmlTypeFromName('Q4_2')).toBeUndefined();
});

test('llama file types by llama-quantize name, case-insensitive', () => {
  expect(llamaFileTypeName(15)).toBe('Q4_K_M');
  expect(llamaFileTypeName(32)).toBe('BF16');
  expect(llamaFileTypeName(0)).toBe('F32');
  expect(llamaFileTypeFromName('q4_K_M')).toBe(15);
  expect(llamaFileTypeFromName('nope')).toBeUndefined();
});

const t = (name: string, type: number, shape: number[]): GgufTensorInfo => ({ name, type, shape, offset: 0, byteLength: 0 });

test('file type: general.file_type wins; else guessed from the most common tensor type, first to the maximum in name order', () => {
  const tensors = [t('b', GgmlType.Q6_K, [256]), t('a', GgmlType.Q4_K, [256]), t('c', GgmlType.F32, [4]), t('d', GgmlType.F32, [4])];
  expect(fileTypeName({ metadata: [{ key: 'general.file_type', type: GgufValueType.UINT32, value: 15 }], tensors })).toBe('Q4_K_M');
  expect(fileTypeOf({ metadata: [], tensors })).toEqual({ id: 0, name: 'F32', guessed: true });
  expect(fileTypeName({ metadata: [], tensors: tensors.slice(0, 2) })).toBe('Q4_K_M (guessed)'); // 'a' comes first by name
  expect(fileTypeName({ metadata: [], tensors: [] })).toBeUndefined();
});

test('parameterCount sums shape products without intermediate overflow', () => {
  expect(parameterCount({ tensors: [t('a', 0, [4096, 32000]), t('b', 0, []), t('c', 0, [3, 0])] })).toBe(4096 * 32000 + 1);
  expect(parameterCount({ tensors: [t('a', 0, [2 ** 26, 2 ** 26]), t('b', 0, [2 ** 26, 2 ** 26])] })).toBe(2 ** 53);
});
