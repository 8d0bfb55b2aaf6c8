import { readGguf, type GgufInfo } from '../gguf/ggufInfo.js';
import { inspectJson, numberToJson } from '../gguf/ggufJson.js';
import { GgufValueType, type GgufArray, type GgufValue } from '../gguf/types.js';
import { ggmlTypeName } from '../gguf/ggmlTypes.js';
import { parseCommandArgs, printJson, UsageError, type Command } from './usage.js';

/** Arrays longer than this are summarised in the human-readable listing (never in --json). */
const SUMMARY_ITEMS = 6;

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
    `file type      ${info.fileType ?? 'unknown'}${info.fileTypeGuessed ? ' (guessed from tensor types)' : ''}`,
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
