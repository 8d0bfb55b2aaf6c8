// Writes safetensors files as the reference library lays them out: the JSON header padded with
// spaces to a multiple of 8 bytes, tensors in name order, each one's bytes right after the last.
import { open } from 'node:fs/promises';
import { dtypeSize, isSafetensorsDtype, type SafetensorsDtype } from './dtypes.js';

export interface SafetensorsTensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  /** Row-major (PyTorch) order. */
  shape: number[];
  data: Uint8Array;
}

/** The header bytes (length prefix + padded JSON) for tensors laid out in the given order. */
export function serializeSafetensorsHeader(tensors: readonly Omit<SafetensorsTensorSpec, 'data'>[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (!isSafetensorsDtype(t.dtype)) throw new RangeError(`Expected a safetensors dtype for tensor "${t.name}" but received ${String(t.dtype)}`);
    const bytes = t.shape.reduce((a, b) => a * b, 1) * dtypeSize(t.dtype);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const pad = (8 - (Buffer.byteLength(json) % 8)) % 8;
  json += ' '.repeat(pad);
  const body = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

/** Writes a safetensors file; tensors are stored in name order (the order given is not kept). */
export async function writeSafetensors(path: string, tensors: readonly SafetensorsTensorSpec[], metadata?: Record<string, string>): Promise<void> {
  const sorted = [...tensors].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const t of sorted) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * dtypeSize(t.dtype);
    if (t.data.length !== bytes) throw new RangeError(`Expected ${bytes} bytes of data for tensor "${t.name}" but received ${t.data.length}`);
  }
  const handle = await open(path, 'w');
  try {
    await handle.write(serializeSafetensorsHeader(sorted, metadata));
    for (const t of sorted) await handle.write(t.data);
  } finally {
    await handle.close();
  }
}
