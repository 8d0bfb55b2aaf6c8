import { GgufValueType, type GgufArray, type GgufMetadataEntry, type GgufValue } from './types.js';
import { ggmlTypeName } from './ggmlTypes.js';
import type { GgufInfo } from './ggufInfo.js';

// The JSON form of a GGUF header that `gguf-forge inspect --json` prints; scripts rely on its shape.
const TWO_POW_53 = 2n ** 53n;
/** Shortest decimal that reads back as the same float32 (what a person expects to see for 1e-5). */
export function float32ToShortest(value: number): number | string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(value, -0)) return -0;
  for (let precision = 1; precision <= 9; precision++) {
    const text = value.toPrecision(precision);
    const nearest = Number(text);
    if (Math.fround(nearest) === value) return nearest;
    // At powers of two the float's rounding interval is lopsided: the nearest p-digit decimal can
    // miss it while its neighbour one unit in the last digit away lands inside.
    const [mantissa = '', exp = '0'] = Number(text).toExponential(precision - 1).split('e');
    const unit = Number(`1e${Number(exp) - (precision - 1)}`);
    const inside = [Number(`${mantissa}e${exp}`) - unit, Number(`${mantissa}e${exp}`) + unit]
      .map((c) => Number(c.toPrecision(precision)))
      .filter((c) => Math.fround(c) === value)
      .sort((a, b) => Math.abs(a - value) - Math.abs(b - value));
    if (inside.length > 0) return inside[0] as number;
  }
  return value;
}

export function numberToJson(type: GgufValueType, value: number | bigint | boolean): number | string | boolean {
  if (typeof value === 'bigint') return value > TWO_POW_53 || value < -TWO_POW_53 ? value.toString() : Number(value);
  if (typeof value === 'boolean') return value;
  if (type === GgufValueType.FLOAT32) return float32ToShortest(value);
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

interface JsonArray {
  type: 'ARRAY';
  itemType: string;
  value: unknown[];
}

function arrayToJson(array: GgufArray): JsonArray {
  const items = array.items as ArrayLike<unknown>;
  const value: unknown[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) value[i] = scalarOrArrayToJson(array.itemType, items[i] as GgufValue);
  return { type: 'ARRAY', itemType: GgufValueType[array.itemType], value };
}

function scalarOrArrayToJson(type: GgufValueType, value: GgufValue): unknown {
  if (type === GgufValueType.ARRAY) return arrayToJson(value as GgufArray);
  if (type === GgufValueType.STRING) return value;
  return numberToJson(type, value as number | bigint | boolean);
}

function metadataToJson(entry: GgufMetadataEntry): Record<string, unknown> {
  if (entry.type === GgufValueType.ARRAY) {
    const { itemType, value } = arrayToJson(entry.value as GgufArray);
    return { key: entry.key, type: 'ARRAY', itemType, value };
  }
  return { key: entry.key, type: GgufValueType[entry.type], value: scalarOrArrayToJson(entry.type, entry.value) };
}

/** The stable `inspect --json` document (see README: scripts rely on its shape). */
export function inspectJson(info: GgufInfo) {
  return {
    version: info.version,
    alignment: info.alignment,
    dataOffset: info.dataOffset,
    parameterCount: info.parameterCount,
    fileType: info.fileType,
    metadata: info.metadata.map(metadataToJson),
    tensors: info.tensors.map((t) => ({ name: t.name, type: ggmlTypeName(t.type), shape: t.shape, offset: t.offset, bytes: t.byteLength })),
  };
}
