// FP8 E4M3 ("e4m3fn": bias 7, no infinities, S.1111.111 is NaN) weights with their inverse scales,
// dequantized to float32 the way both llama.cpp (dequant_simple) and Ollama read FP8 checkpoints:
// value = float(w) * scale_inv, the scale repeated over blocks of weight_block_size (default 128×128),
// over rows (one scale per output row), or over the whole tensor (a single scale).

const E4M3 = new Float32Array(256);
for (let b = 0; b < 256; b++) {
  const sign = b & 0x80 ? -1 : 1;
  const exp = (b >> 3) & 0xf;
  const man = b & 7;
  if (exp === 0xf && man === 7) E4M3[b] = NaN;
  else if (exp === 0) E4M3[b] = sign * (man / 8) * 2 ** -6;
  else E4M3[b] = sign * (1 + man / 8) * 2 ** (exp - 7);
}

/** The float32 value of every E4M3 byte. */
export function e4m3ToFloat32(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = E4M3[bytes[i] as number] as number;
  return out;
}

export interface Fp8Scale {
  /** The scale_inv values, row-major. */
  values: Float32Array;
  /** Its shape as stored. */
  shape: readonly number[];
}

/**
 * Dequantizes `rows` rows (starting at `firstRow`) of a [totalRows, cols] E4M3 weight. `bytes` holds
 * exactly those rows. `blockSize` is quantization_config.weight_block_size ([rows, cols] per scale),
 * or undefined for a scalar or per-row scale.
 */
export function dequantizeE4M3Rows(bytes: Uint8Array, cols: number, firstRow: number, rows: number, scale: Fp8Scale, blockSize?: readonly [number, number]): Float32Array {
  if (bytes.length !== rows * cols) throw new RangeError(`Expected ${rows * cols} bytes (${rows} rows of ${cols}) but received ${bytes.length}`);
  const out = new Float32Array(rows * cols);
  const s = scale.values;
  if (blockSize) {
    const [br, bc] = blockSize;
    const blockCols = Math.ceil(cols / bc);
    if (s.length < Math.ceil((firstRow + rows) / br) * blockCols) throw new RangeError(`Expected at least ${Math.ceil((firstRow + rows) / br) * blockCols} block scales but received ${s.length}`);
    for (let r = 0; r < rows; r++) {
      const sRow = Math.floor((firstRow + r) / br) * blockCols;
      for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround((E4M3[bytes[r * cols + c] as number] as number) * (s[sRow + Math.floor(c / bc)] as number));
    }
    return out;
  }
  const perRow = s.length > 1;
  if (perRow && s.length < firstRow + rows) throw new RangeError(`Expected one scale per row (${firstRow + rows}+) but received ${s.length}`);
  for (let r = 0; r < rows; r++) {
    const k = (perRow ? s[firstRow + r] : s[0]) as number;
    for (let c = 0; c < cols; c++) out[r * cols + c] = Math.fround((E4M3[bytes[r * cols + c] as number] as number) * k);
  }
  return out;
}
