// Importance matrices as llama-imatrix writes them, read the way llama-quantize reads them
// (common_imatrix_load + load_imatrix): the GGUF format (`<tensor>.in_sum2` and `<tensor>.counts`
// per weight, imatrix.* keys) and the legacy `.dat` format. Each entry becomes the per-column
// weights llama-quantize hands to the quantizer: sums divided by the count (per expert for 3-D
// tensors), or 1 where an expert was never hit.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GgufError } from '../gguf/errors.js';
import { MappedGguf } from '../gguf/mappedGguf.js';
import { GgmlType } from '../gguf/ggmlTypes.js';

export interface Imatrix {
  /** Per tensor name: n_per_row weights, times the number of experts for 3-D tensors. */
  entries: Map<string, Float32Array>;
  /** imatrix.datasets (GGUF) or the trailing dataset name (legacy). */
  datasets: string[];
  /** imatrix.chunk_count, or the legacy trailing call count; 0 when absent. */
  chunkCount: number;
  legacy: boolean;
  file: string;
}

export class ImatrixError extends Error {
  readonly code = 'ERR_IMATRIX';
  readonly file: string;
  readonly offset?: number;
  constructor(message: string, file: string, offset?: number) {
    super(`${message} (${file}${offset === undefined ? '' : `, byte ${offset}`})`);
    this.name = 'ImatrixError';
    this.file = file;
    if (offset !== undefined) this.offset = offset;
  }
}

// Bounds for the legacy format, whose counts come straight from the file.
const MAX_LEGACY_ENTRIES = 1 << 20;
const MAX_NAME_BYTES = 1 << 16;

function readLegacy(path: string): Imatrix {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let pos = 0;
    const read = (n: number, what: string): Buffer => {
      if (pos + n > size) throw new ImatrixError(`Truncated legacy imatrix: ${what} needs ${n} bytes`, path, pos);
      const b = Buffer.alloc(n);
      readSync(fd, b, 0, n, pos);
      pos += n;
      return b;
    };
    const i32 = (what: string) => read(4, what).readInt32LE(0);
    const count = i32('the entry count');
    if (count < 1 || count > MAX_LEGACY_ENTRIES) throw new ImatrixError(`Legacy imatrix entry count ${count} is out of range`, path, 0);
    const entries = new Map<string, Float32Array>();
    for (let i = 0; i < count; i++) {
      const at = pos;
      const len = i32(`the name length of entry ${i}`);
      if (len < 0 || len > MAX_NAME_BYTES) throw new ImatrixError(`Bad name length ${len} of entry ${i}`, path, at);
      // C string semantics: the name ends at the first NUL.
      const raw = read(len, `the name of entry ${i}`);
      const nul = raw.indexOf(0);
      const name = raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
      const ncall = i32(`the call count of entry ${i}`);
      const nvalAt = pos;
      const nval = i32(`the value count of entry ${i}`);
      if (nval < 1 || pos + nval * 4 > size) throw new ImatrixError(`Bad value count ${nval} of entry '${name}'`, path, nvalAt);
      const sums = new Float32Array(read(nval * 4, `the values of '${name}'`).buffer.slice(0));
      const values = new Float32Array(nval);
      if (ncall > 0) {
        const div = Math.fround(ncall);
        for (let j = 0; j < nval; j++) values[j] = Math.fround((sums[j] as number) / div);
      } else values.set(sums);
      entries.set(name, values);
    }
    let chunkCount = 0;
    const datasets: string[] = [];
    if (pos + 4 <= size) {
      chunkCount = i32('the chunk count');
      if (pos + 4 <= size) {
        const len = i32('the dataset name length');
        if (len > 0 && len <= MAX_NAME_BYTES && pos + len <= size) {
          const raw = read(len, 'the dataset name');
          const nul = raw.indexOf(0);
          datasets.push(raw.subarray(0, nul < 0 ? len : nul).toString('utf8'));
        }
      }
    }
    return { entries, datasets, chunkCount, legacy: true, file: path };
  } finally {
    closeSync(fd);
  }
}

function u32Value(gguf: MappedGguf, key: string): number | undefined {
  const v = gguf.header.metadata.find((m) => m.key === key)?.value;
  return typeof v === 'number' ? v : undefined;
}

function readGgufImatrix(path: string): Imatrix {
  const gguf = MappedGguf.open(path);
  try {
    return imatrixFromGguf(gguf, path);
  } finally {
    gguf.close();
  }
}

function imatrixFromGguf(gguf: MappedGguf, path: string): Imatrix {
  const meta = gguf.header.metadata;
  const datasetsEntry = meta.find((m) => m.key === 'imatrix.datasets')?.value;
  const datasets =
    datasetsEntry && typeof datasetsEntry === 'object' && Array.isArray(datasetsEntry.items) && datasetsEntry.items.every((s) => typeof s === 'string')
      ? [...(datasetsEntry.items as string[])]
      : [];
  const hasMetadata = datasetsEntry !== undefined && meta.some((m) => m.key === 'imatrix.chunk_count') && meta.some((m) => m.key === 'imatrix.chunk_size');
  if (!hasMetadata) throw new ImatrixError('Missing imatrix metadata (imatrix.datasets, imatrix.chunk_count, imatrix.chunk_size)', path);
  if (gguf.header.tensors.length < 1) throw new ImatrixError('No data in imatrix file', path);
  const pairs = new Map<string, { sums?: (typeof gguf.header.tensors)[number]; counts?: (typeof gguf.header.tensors)[number] }>();
  for (const t of gguf.header.tensors) {
    if (t.name.endsWith('.in_sum2')) {
      const name = t.name.slice(0, -'.in_sum2'.length);
      pairs.set(name, { ...pairs.get(name), sums: t });
    } else if (t.name.endsWith('.counts')) {
      const name = t.name.slice(0, -'.counts'.length);
      pairs.set(name, { ...pairs.get(name), counts: t });
    }
  }
  const entries = new Map<string, Float32Array>();
  for (const [name, { sums, counts }] of [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (!sums || !counts) throw new ImatrixError(`Mismatched sums and counts for ${name}`, path);
    if (sums.type !== GgmlType.F32 || counts.type !== GgmlType.F32) throw new ImatrixError(`Sums and counts for ${name} must be F32`, path);
    const s = new Float32Array(gguf.tensorData(sums).slice().buffer);
    const c = new Float32Array(gguf.tensorData(counts).slice().buffer);
    // load_imatrix skips entries without counts or sums.
    if (c.length === 0 || s.length === 0) continue;
    const ne0 = Math.trunc(s.length / c.length);
    const values = new Float32Array(s.length);
    for (let j = 0; j < c.length; j++) {
      const count = Math.fround(Math.round(c[j] as number)); // std::lround, then to float
      for (let i = 0; i < ne0; i++) values[j * ne0 + i] = count > 0 ? Math.fround((s[j * ne0 + i] as number) / count) : 1;
    }
    entries.set(name, values);
  }
  return { entries, datasets, chunkCount: u32Value(gguf, 'imatrix.chunk_count') ?? 0, legacy: false, file: path };
}

/** Reads an imatrix file in either format (GGUF when it starts with the GGUF magic). */
export function readImatrix(path: string): Imatrix {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`Expected an imatrix file path but received ${String(path)}`);
  const fd = openSync(path, 'r');
  const magic = Buffer.alloc(4);
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (magic.toString('latin1') === 'GGUF') {
    try {
      return readGgufImatrix(path);
    } catch (e) {
      if (e instanceof GgufError) throw new ImatrixError(`Not a readable imatrix GGUF: ${e.message}`, path, e.offset);
      throw e;
    }
  }
  return readLegacy(path);
}
