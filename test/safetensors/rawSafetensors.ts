// Hand-built safetensors bytes for tests, including malformed ones: the JSON text and the data are
// given as is, so a test can write exactly the header it wants to see rejected.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const scratch = mkdtempSync(join(tmpdir(), 'gguf-forge-st-'));

/** 8-byte little-endian length (defaults to the JSON's), the JSON text, then `data`. */
export function rawSafetensors(json: string | object, data: Uint8Array = new Uint8Array(0), length?: bigint): Uint8Array {
  const text = Buffer.from(typeof json === 'string' ? json : JSON.stringify(json), 'utf8');
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

let counter = 0;
export function writeTemp(bytes: Uint8Array, name = `t${counter++}.safetensors`): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

export function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}
