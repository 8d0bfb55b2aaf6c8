// Compares gguf-forge's parsed header with llama.cpp's (test/reference/ggufReference.ts) and lists
// every difference as a readable line naming the file, the key or tensor and the element index.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { sharedData } from '../sharedData.js';
import type { GgufHeader, GgufMetadataEntry } from '../../lib/gguf/types.js';
import type { RefGguf, RefMetadataEntry } from '../reference/ggufReference.js';

export const DATA_DIR = sharedData('gguf');

/** Every .gguf under DATA_DIR (recursively), sorted, as absolute paths. */
export function listGgufFiles(dir = DATA_DIR): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.gguf')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function shortName(path: string): string {
  return path.startsWith(DATA_DIR) ? relative(DATA_DIR, path) : path;
}

const MAX_DIFFS = 25;

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return String(v);
}

function f32Bits(x: number): number {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0] as number;
}

function f64Bits(x: number): bigint {
  const f = new Float64Array([x]);
  return new BigUint64Array(f.buffer)[0] as bigint;
}

/** Equal in the sense of the item type: floats bitwise (so -0 ≠ 0 and NaN = same NaN), ints exactly. */
function sameScalar(type: number, ours: unknown, ref: unknown): boolean {
  if (type === 6) return typeof ours === 'number' && typeof ref === 'number' && f32Bits(ours) === f32Bits(ref);
  if (type === 12) return typeof ours === 'number' && typeof ref === 'number' && f64Bits(ours) === f64Bits(ref);
  return ours === ref;
}

const TYPED_ARRAY_FOR: Record<number, string> = {
  0: 'Uint8Array', 1: 'Int8Array', 2: 'Uint16Array', 3: 'Int16Array', 4: 'Uint32Array', 5: 'Int32Array',
  6: 'Float32Array', 10: 'BigUint64Array', 11: 'BigInt64Array', 12: 'Float64Array',
};

function compareEntry(where: string, ours: GgufMetadataEntry, ref: RefMetadataEntry, diffs: string[]): void {
  if (ours.type !== ref.type) {
    diffs.push(`${where}: value type ours ${ours.type} llama.cpp ${ref.type}`);
    return;
  }
  if (ref.type !== 9) {
    if (!sameScalar(ref.type, ours.value, ref.value)) {
      diffs.push(`${where}: value ours ${show(ours.value)} (${typeof ours.value}) llama.cpp ${show(ref.value)} (${typeof ref.value})`);
    }
    return;
  }
  const arr = ours.value;
  if (typeof arr !== 'object' || arr === null || !('itemType' in arr)) {
    diffs.push(`${where}: ours is not an array value: ${show(arr)}`);
    return;
  }
  if (arr.itemType !== ref.itemType) {
    diffs.push(`${where}: array item type ours ${arr.itemType} llama.cpp ${ref.itemType}`);
    return;
  }
  const refItems = ref.value as ArrayLike<unknown>;
  const ourItems = arr.items as ArrayLike<unknown>;
  const expectedClass = TYPED_ARRAY_FOR[arr.itemType];
  if (expectedClass !== undefined && ourItems.constructor.name !== expectedClass) {
    diffs.push(`${where}: ours holds items in a ${ourItems.constructor.name}, expected ${expectedClass}`);
  }
  if (ourItems.length !== refItems.length) {
    diffs.push(`${where}: array length ours ${ourItems.length} llama.cpp ${refItems.length}`);
  }
  const n = Math.min(ourItems.length, refItems.length);
  let reported = 0;
  for (let i = 0; i < n && reported < 5; i++) {
    if (!sameScalar(arr.itemType, ourItems[i], refItems[i])) {
      diffs.push(`${where}[${i}]: ours ${show(ourItems[i])} llama.cpp ${show(refItems[i])}`);
      reported++;
    }
  }
}

/** Differences between our header and llama.cpp's reading of the same file ([] when identical). */
export function diffHeaders(file: string, ours: GgufHeader, ref: RefGguf): string[] {
  const diffs: string[] = [];
  const f = shortName(file);
  if (ours.version !== ref.version) diffs.push(`${f}: version ours ${ours.version} llama.cpp ${ref.version}`);
  if (ours.alignment !== ref.alignment) diffs.push(`${f}: alignment ours ${ours.alignment} llama.cpp ${ref.alignment}`);
  if (ours.dataOffset !== ref.dataOffset) diffs.push(`${f}: data offset ours ${ours.dataOffset} llama.cpp ${ref.dataOffset}`);
  if (ours.metadata.length !== ref.metadata.length) {
    diffs.push(`${f}: metadata count ours ${ours.metadata.length} llama.cpp ${ref.metadata.length}`);
  }
  const nKv = Math.min(ours.metadata.length, ref.metadata.length);
  for (let i = 0; i < nKv && diffs.length < MAX_DIFFS; i++) {
    const o = ours.metadata[i] as GgufMetadataEntry;
    const r = ref.metadata[i] as RefMetadataEntry;
    if (o.key !== r.key) {
      diffs.push(`${f}: metadata #${i} key ours ${show(o.key)} llama.cpp ${show(r.key)}`);
      continue;
    }
    compareEntry(`${f}: key ${r.key}`, o, r, diffs);
  }
  if (ours.tensors.length !== ref.tensors.length) {
    diffs.push(`${f}: tensor count ours ${ours.tensors.length} llama.cpp ${ref.tensors.length}`);
  }
  const nT = Math.min(ours.tensors.length, ref.tensors.length);
  for (let i = 0; i < nT && diffs.length < MAX_DIFFS; i++) {
    const o = ours.tensors[i];
    const r = ref.tensors[i];
    if (!o || !r) continue;
    const w = `${f}: tensor #${i} ${r.name}`;
    if (o.name !== r.name) diffs.push(`${w}: name ours ${show(o.name)} llama.cpp ${show(r.name)}`);
    if (o.type !== r.type) diffs.push(`${w}: type ours ${o.type} llama.cpp ${r.type}`);
    const ne = [...o.shape.map(Number)];
    while (ne.length < 4) ne.push(1);
    if (ne.length !== 4 || ne.some((d, j) => d !== r.ne[j])) diffs.push(`${w}: ne ours [${ne.join(',')}] (shape [${o.shape.join(',')}]) llama.cpp [${r.ne.join(',')}]`);
    if (o.offset !== r.offset) diffs.push(`${w}: offset ours ${show(o.offset)} llama.cpp ${r.offset}`);
    if (o.byteLength !== r.size) diffs.push(`${w}: size ours ${show(o.byteLength)} llama.cpp ${r.size}`);
  }
  if (diffs.length >= MAX_DIFFS) diffs.push(`${f}: (stopped after ${MAX_DIFFS} differences)`);
  return diffs;
}

/** Index and values of the first differing byte, or null when equal. */
export function firstByteDifference(ours: Uint8Array, ref: Uint8Array): string | null {
  const n = Math.min(ours.length, ref.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== ref[i]) {
      return `first differing byte at ${i}: ours 0x${(ours[i] as number).toString(16)} llama.cpp 0x${(ref[i] as number).toString(16)} (sizes ours ${ours.length}, llama.cpp ${ref.length})`;
    }
  }
  if (ours.length !== ref.length) return `sizes differ: ours ${ours.length} llama.cpp ${ref.length} (common prefix equal)`;
  return null;
}
