// The safetensors header: 8 bytes of little-endian u64 length n, then n bytes of UTF-8 JSON mapping
// tensor names to { dtype, shape, data_offsets } (plus an optional "__metadata__" of strings), then
// the data buffer. Validated as the reference Rust library validates it: every tensor's byte range
// lies in the buffer, matches shape × dtype size, and the ranges tile the buffer exactly (no overlap,
// no hole, nothing after the last tensor).
import { SafetensorsError } from './errors.js';
import { dtypeSize, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.js';
import { compareUtf8 } from '../utf8Order.js';

/** The reference library refuses headers above 100 MB; so do we, before reading them. */
export const MAX_HEADER_BYTES = 100_000_000;
/** More dimensions than any model uses; bounds the work a hostile shape can cause. */
export const MAX_TENSOR_DIMS = 16;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  /** Row-major (PyTorch) order: the last dimension is contiguous. */
  shape: number[];
  /** data_offsets as stored: relative to the start of the data buffer. */
  begin: number;
  end: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
}

export interface SafetensorsHeader {
  /** n, the JSON length. */
  headerLength: number;
  /** 8 + n: where the data buffer starts. */
  dataOffset: number;
  fileSize: number;
  /** The "__metadata__" strings, if present. */
  metadata: Record<string, string> | undefined;
  /** Sorted by name (UTF-8 byte order, which is code point order), as safetensors lists them. */
  tensors: SafetensorsTensorInfo[];
}

function fail(code: string, message: string, where: { offset?: number; file?: string; tensor?: string }): never {
  throw new SafetensorsError(code, message, where);
}

function describe(value: unknown): string {
  const s = JSON.stringify(value);
  if (s === undefined) return String(value);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Reads n from the first 8 bytes and checks it against the limits and the file size. */
export function headerLengthOf(prefix: Uint8Array, fileSize: number, file?: string): number {
  if (prefix.length < 8 || fileSize < 8) fail('ERR_SAFETENSORS_TRUNCATED', `Expected at least 8 bytes (the header length) but the file has ${fileSize}`, { offset: 0, file });
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n === 0n) fail('ERR_SAFETENSORS_HEADER_LENGTH', 'Header length is 0', { offset: 0, file });
  if (n > BigInt(MAX_HEADER_BYTES)) fail('ERR_SAFETENSORS_HEADER_LENGTH', `Header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`, { offset: 0, file });
  const length = Number(n);
  if (8 + length > fileSize) fail('ERR_SAFETENSORS_HEADER_LENGTH', `Header length ${length} runs past the end of the file (${fileSize} bytes)`, { offset: 0, file });
  return length;
}

function offsetPair(value: unknown): [number, number] | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [b, e] = value as unknown[];
  if (typeof b !== 'number' || typeof e !== 'number' || !Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b < 0 || e < b) return undefined;
  return [b, e];
}

/**
 * Parses and validates a safetensors header. `bytes` holds at least the first 8 + n bytes of the
 * file; `fileSize` is the whole file's size (the data buffer is what follows the header).
 */
export function parseSafetensorsHeader(bytes: Uint8Array, fileSize: number, file?: string): SafetensorsHeader {
  const n = headerLengthOf(bytes, fileSize, file);
  if (bytes.length < 8 + n) fail('ERR_SAFETENSORS_TRUNCATED', `Expected ${8 + n} header bytes but was given ${bytes.length}`, { offset: bytes.length, file });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('ERR_SAFETENSORS_JSON', 'Header is not valid UTF-8', { offset: 8, file });
  }
  // The format requires the JSON to start with '{' (trailing spaces are the allowed padding).
  if (!text.startsWith('{')) fail('ERR_SAFETENSORS_JSON', `Header must start with '{' but starts with ${describe(text.slice(0, 8))}`, { offset: 8, file });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail('ERR_SAFETENSORS_JSON', `Header is not JSON: ${(e as Error).message}`, { offset: 8, file });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('ERR_SAFETENSORS_JSON', 'Header is not a JSON object', { offset: 8, file });

  const dataOffset = 8 + n;
  const dataLength = fileSize - dataOffset;
  let metadata: Record<string, string> | undefined;
  const tensors: SafetensorsTensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      // null is "no metadata" (MLX writes it).
      if (entry === null) continue;
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        fail('ERR_SAFETENSORS_JSON', '"__metadata__" must be an object of strings', { offset: 8, file });
      }
      metadata = { ...(entry as Record<string, string>) };
      continue;
    }
    const where = { offset: 8, file, tensor: name };
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('ERR_SAFETENSORS_JSON', `Tensor "${name}" is not an object`, where);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isSafetensorsDtype(dtype)) fail('ERR_SAFETENSORS_DTYPE', `Tensor "${name}" has unknown dtype ${describe(dtype)}`, where);
    if (!Array.isArray(shape) || shape.length > MAX_TENSOR_DIMS || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
      fail('ERR_SAFETENSORS_SHAPE', `Tensor "${name}" has shape ${describe(shape)}: expected at most ${MAX_TENSOR_DIMS} non-negative integers`, where);
    }
    const pair = offsetPair(offsets);
    if (!pair) fail('ERR_SAFETENSORS_OFFSETS', `Tensor "${name}" has data_offsets ${describe(offsets)}: expected [begin, end] with 0 <= begin <= end`, where);
    const [begin, end] = pair;
    const expected = (shape as number[]).reduce((p, d) => p * BigInt(d), 1n) * BigInt(dtypeSize(dtype));
    if (expected !== BigInt(end - begin)) {
      fail('ERR_SAFETENSORS_SHAPE', `Tensor "${name}": shape [${(shape as number[]).join(', ')}] of ${dtype} needs ${expected} bytes but data_offsets span ${end - begin}`, where);
    }
    if (end > dataLength) {
      fail('ERR_SAFETENSORS_EXTENT', `Tensor "${name}" data [${begin}, ${end}) runs past the end of the data buffer (${dataLength} bytes)`, { ...where, offset: dataOffset + begin });
    }
    tensors.push({ name, dtype, shape: [...(shape as number[])], begin, end, offset: dataOffset + begin, byteLength: end - begin });
  }

  const byOffset = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: SafetensorsTensorInfo | undefined;
  for (const t of byOffset) {
    if (t.begin < covered) {
      fail('ERR_SAFETENSORS_OVERLAP', `Tensor "${t.name}" data [${t.begin}, ${t.end}) overlaps tensor "${previous?.name}" [${previous?.begin}, ${previous?.end})`, { offset: t.offset, file, tensor: t.name });
    }
    if (t.begin > covered) fail('ERR_SAFETENSORS_OFFSETS', `Tensor "${t.name}" starts at ${t.begin}, leaving a hole after byte ${covered} of the data buffer`, { offset: t.offset, file, tensor: t.name });
    covered = t.end;
    previous = t;
  }
  if (covered !== dataLength) {
    fail('ERR_SAFETENSORS_EXTENT', `The tensors cover ${covered} of the ${dataLength} bytes after the header`, { offset: dataOffset + covered, file });
  }
  tensors.sort((a, b) => compareUtf8(a.name, b.name));
  return { headerLength: n, dataOffset, fileSize, metadata, tensors };
}
