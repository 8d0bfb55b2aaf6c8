// The bytes of one planned tensor, produced in row chunks: read from the checkpoint with positional
// reads (so the resident set stays at a few chunks, not the whole file as a mapping would grow to),
// dequantized from FP8, rows un-permuted for RoPE, Gemma norms shifted by one, then converted to
// the output type by the native kernels off the JS thread.
import { GgmlType, ggmlTypeInfo, ggmlTypeName } from '../gguf/ggmlTypes.js';
import { fp32ToFp16 } from '../quantize/halfFloat.js';
import { quantize } from '../quantize/quantize.js';
import { dequantizeE4M3Rows, type Fp8Scale } from '../safetensors/fp8.js';
import { ConvertError } from './errors.js';
import type { PlannedTensor, TensorSource } from './model.js';

/** Source elements per chunk: 4 Mi elements (8 MiB of BF16) keeps memory flat and the pool busy. */
export const CHUNK_ELEMENTS = 1 << 22;

type FloatType = GgmlType.F32 | GgmlType.F16 | GgmlType.BF16;

const DTYPE_TYPE: Record<string, FloatType> = { F32: GgmlType.F32, F16: GgmlType.F16, BF16: GgmlType.BF16, F8_E4M3: GgmlType.F32 };
const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F8_E4M3: 1 };

export interface Chunk {
  bytes: Uint8Array;
  /** Element type of `bytes`. */
  type: FloatType;
  rows: number;
  cols: number;
  /** Returns `bytes` to the read-buffer pool; call once nothing uses them any more. */
  release?: () => void;
}

/**
 * Read buffers recycled between chunks: fresh multi-megabyte allocations cost a page fault per
 * 4 KiB and zero-filling, which at I/O speed is as much work as the copy itself.
 */
class BufferPool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  #retained = 0;
  static readonly MAX_RETAINED = 8;

  acquire(length: number): { bytes: Uint8Array; release: () => void } {
    let capacity = 1 << 16;
    while (capacity < length) capacity *= 2;
    const recycled = this.#free.get(capacity)?.pop();
    if (recycled) this.#retained--;
    const buffer = recycled ?? new ArrayBuffer(capacity);
    let released = false;
    return {
      bytes: new Uint8Array(buffer, 0, length),
      release: () => {
        if (released) return;
        released = true;
        if (this.#retained >= BufferPool.MAX_RETAINED) return;
        const list = this.#free.get(capacity) ?? [];
        list.push(buffer);
        this.#free.set(capacity, list);
        this.#retained++;
      },
    };
  }

}

/** [rows, cols] of a row-major shape: the last dimension is a row. */
export function rowsCols(shape: readonly number[]): [number, number] {
  if (shape.length === 0) return [1, 1];
  const cols = shape[shape.length - 1] as number;
  return [shape.slice(0, -1).reduce((a, b) => a * b, 1), cols];
}

/** The type the tensor's elements have when read (FP8 is dequantized to F32). */
export function sourceType(t: PlannedTensor): FloatType {
  if (t.generated) return GgmlType.F32;
  return DTYPE_TYPE[t.sources[0]!.tensor.dtype] as FloatType;
}

function toFloat32(bytes: Uint8Array, type: FloatType): Float32Array {
  const n = bytes.length / (type === GgmlType.F32 ? 4 : 2);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === GgmlType.F32) for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  else if (type === GgmlType.BF16) {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  }
  else {
    const bits = new Uint16Array(n);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true);
    for (let i = 0; i < n; i++) out[i] = halfToFloat(bits[i] as number);
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Gemma's norm + 1, computed as torch does in the source dtype (F16 sums rounded back to F16). */
function addOne(bytes: Uint8Array, type: FloatType): Uint8Array {
  const v = toFloat32(bytes, type);
  for (let i = 0; i < v.length; i++) v[i] = Math.fround((v[i] as number) + 1);
  if (type === GgmlType.F16) {
    const h = fp32ToFp16(v);
    for (let i = 0; i < v.length; i++) v[i] = halfToFloat(h[i] as number);
  }
  return bytesOf(v);
}

/**
 * LlamaModel.permute on rows: out[h*hd + 2i + j] = in[h*hd + j*hd/2 + i]; the chunk starts at a head.
 * Rows are opaque bytes, so any element type works (the converter's chunks, the LoRA B matrices).
 */
export function permuteRows(bytes: Uint8Array, rows: number, rowBytes: number, headRows: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const half = headRows / 2;
  for (let h = 0; h < rows; h += headRows) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h + j * half + i) * rowBytes;
        out.set(bytes.subarray(from, from + rowBytes), (h + 2 * i + j) * rowBytes);
      }
    }
  }
  return out;
}

async function readScale(source: TensorSource): Promise<Fp8Scale> {
  const t = source.scale!.tensor;
  const bytes = await t.file.read(t, 0, t.byteLength);
  if (!(t.dtype in DTYPE_TYPE) || t.dtype === 'F8_E4M3') throw new ConvertError('ERR_CONVERT_TENSOR', `Scale ${t.name} is ${t.dtype}: expected F32, F16 or BF16`, { tensor: t.name });
  return { values: toFloat32(bytes, DTYPE_TYPE[t.dtype] as FloatType), shape: t.shape };
}

/**
 * The tensor's elements in row chunks of its source type (F32 after FP8 dequantization or the +1
 * shift), rows in output order. Chunks never straddle two stacked sources or split a RoPE head.
 */
export async function* sourceChunks(t: PlannedTensor, signal?: AbortSignal, pool = new BufferPool()): AsyncGenerator<Chunk> {
  const [, cols] = rowsCols(t.shape);
  if (t.generated) {
    yield { bytes: bytesOf(t.generated), type: GgmlType.F32, rows: 1, cols: t.generated.length };
    return;
  }
  let rowsPerChunk = Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(cols, 1)));
  let headRows = 0;
  if (t.permuteHeads !== undefined) {
    const [rows] = rowsCols(t.sources[0]!.tensor.shape);
    headRows = rows / t.permuteHeads;
    if (!Number.isInteger(headRows) || headRows % 2 !== 0) {
      throw new ConvertError('ERR_CONVERT_TENSOR', `Cannot un-permute ${t.hfName}: ${rows} rows are not ${t.permuteHeads} heads of an even size`, { tensor: t.hfName });
    }
    rowsPerChunk = Math.max(1, Math.floor(rowsPerChunk / headRows)) * headRows;
  }
  for (const source of t.sources) {
    const tensor = source.tensor;
    const [srcRows, srcCols] = rowsCols(tensor.shape);
    if (srcCols !== cols) throw new ConvertError('ERR_CONVERT_TENSOR', `Tensor ${tensor.name} has rows of ${srcCols}, expected ${cols}`, { tensor: tensor.name });
    const rows = t.keepRows ?? srcRows;
    const esize = DTYPE_BYTES[tensor.dtype] as number;
    const scale = source.scale ? await readScale(source) : undefined;
    for (let r = 0; r < rows; r += rowsPerChunk) {
      signal?.throwIfAborted();
      const n = Math.min(rowsPerChunk, rows - r);
      const pooled = pool.acquire(n * cols * esize);
      let bytes: Uint8Array;
      try {
        bytes = await tensor.file.read(tensor, r * cols * esize, n * cols * esize, pooled.bytes);
      } catch (e) {
        pooled.release();
        throw e;
      }
      let release: (() => void) | undefined = pooled.release;
      let type = DTYPE_TYPE[tensor.dtype] as FloatType;
      const derived = (next: Uint8Array) => {
        release?.();
        release = undefined;
        bytes = next;
      };
      if (scale) derived(bytesOf(dequantizeE4M3Rows(bytes, cols, r, n, scale, source.scale!.blockSize)));
      if (headRows) derived(permuteRows(bytes, n, cols * (type === GgmlType.F32 ? 4 : 2), headRows));
      if (t.addOne) {
        derived(addOne(bytes, type));
        type = GgmlType.F32;
      }
      yield { bytes, type, rows: n, cols, release };
    }
  }
}

/**
 * `chunk` converted to `target` (a float type or a quantized type) by the native kernels; the source
 * chunk is released. With a pool, the output comes from it (and goes back when the result is
 * released), so a large conversion does not allocate, and collect, a buffer per chunk.
 */
export async function encodeChunk(chunk: Chunk, target: number, threads: number | undefined, signal: AbortSignal | undefined, pool?: BufferPool): Promise<Chunk> {
  if (chunk.type === target) return chunk;
  const info = ggmlTypeInfo(target);
  const length = (chunk.rows * chunk.cols / (info?.blockSize ?? 1)) * (info?.typeSize ?? 0);
  const pooled = pool && info ? pool.acquire(length) : undefined;
  try {
    const bytes = await quantize(ggmlTypeName(target), chunk.bytes, {
      rows: chunk.rows,
      cols: chunk.cols,
      sourceType: chunk.type,
      threads,
      signal,
      ...(pooled ? { output: pooled.bytes } : {}),
    });
    return { bytes, type: target as FloatType, rows: chunk.rows, cols: chunk.cols, ...(pooled ? { release: pooled.release } : {}) };
  } catch (e) {
    pooled?.release();
    throw e;
  } finally {
    chunk.release?.();
  }
}

export { BufferPool };
