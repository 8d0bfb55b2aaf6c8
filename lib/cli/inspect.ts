import { readGguf, type GgufInfo } from '../gguf/index.js';
import { GgufValueType, type GgufArray, type GgufMetadataEntry, type GgufValue } from '../gguf/types.js';
import { ggmlTypeName } from '../gguf/ggmlTypes.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

const TWO_POW_53 = 2n ** 53n;
/** Arrays longer than this are summarised in the human-readable listing (never in --json). */
const SUMMARY_ITEMS = 6;

/** Shortest decimal that reads back as the same float32 (what a person expects to see for 1e-5). */
export function float32ToShortest(value: number): number | string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  if (Object.is(value, -0)) return -0;
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function numberToJson(type: GgufValueType, value: number | bigint | boolean): number | string | boolean {
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

function describeValue(type: GgufValueType, value: GgufValue): string {
  if (type === GgufValueType.ARRAY) {
    const array = value as GgufArray;
    const items = array.items as ArrayLike<GgufValue>;
    const shown: string[] = [];
    for (let i = 0; i < Math.min(items.length, SUMMARY_ITEMS); i++) shown.push(describeValue(array.itemType, items[i] as GgufValue));
    const more = items.length > SUMMARY_ITEMS ? `, … ${items.length - SUMMARY_ITEMS} more` : '';
    return `[${items.length} × ${GgufValueType[array.itemType]}] [${shown.join(', ')}${more}]`;
  }
  if (type === GgufValueType.STRING) {
    const text = value as string;
    const oneLine = JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
    return text.length > 120 ? `${oneLine} (${text.length} chars)` : oneLine;
  }
  return String(numberToJson(type, value as number | bigint | boolean));
}

function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)} K`;
  return String(n);
}

function humanListing(path: string, info: GgufInfo): string {
  const out: string[] = [
    `file           ${path}`,
    `version        ${info.version}${info.littleEndian ? '' : ' (big-endian)'}`,
    `alignment      ${info.alignment}`,
    `data offset    ${info.dataOffset}`,
    `tensors        ${info.tensors.length}`,
    `parameters     ${info.parameterCount} (${formatCount(info.parameterCount)})`,
    `file type      ${info.fileType ?? 'unknown'}`,
    '',
    `metadata (${info.metadata.length} keys)`,
  ];
  const keyWidth = Math.max(0, ...info.metadata.map((m) => m.key.length));
  for (const m of info.metadata) {
    const type = m.type === GgufValueType.ARRAY ? 'ARRAY' : GgufValueType[m.type];
    out.push(`  ${m.key.padEnd(keyWidth)}  ${(type ?? '?').padEnd(7)}  ${describeValue(m.type, m.value)}`);
  }
  if (info.tensors.length) {
    out.push('', `tensors (${info.tensors.length})`);
    const nameWidth = Math.max(4, ...info.tensors.map((t) => t.name.length));
    out.push(`  ${'name'.padEnd(nameWidth)}  ${'type'.padEnd(7)}  ${'shape'.padEnd(22)}  ${'offset'.padStart(12)}  ${'bytes'.padStart(12)}`);
    for (const t of info.tensors) {
      out.push(
        `  ${t.name.padEnd(nameWidth)}  ${ggmlTypeName(t.type).padEnd(7)}  ${`[${t.shape.join(', ')}]`.padEnd(22)}  ${String(t.offset).padStart(12)}  ${String(t.byteLength).padStart(12)}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'header, metadata and tensor table of a GGUF file',
  usage: 'gguf-forge inspect FILE.gguf [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(argv, { json: { type: 'boolean' } }, inspectCommand);
    if (values.help) {
      process.stdout.write(
        `Usage: ${inspectCommand.usage}\n\nPrints the GGUF version, alignment, metadata (long arrays summarised unless --json), tensor table\n(name, type, shape innermost first, offset from the data section, bytes), parameter count and file type.\n--json prints {version, alignment, dataOffset, parameterCount, fileType, metadata: [{key, type, value, itemType?}],\ntensors: [{name, type, shape, offset, bytes}]}; 64-bit integers beyond 2^53 are decimal strings.\n`,
      );
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError(`expected exactly one FILE\nUsage: ${inspectCommand.usage}`);
    const path = positionals[0] as string;
    const info = await readGguf(path);
    if (values.json) printJson(inspectJson(info));
    else process.stdout.write(humanListing(path, info));
    return 0;
  },
};
