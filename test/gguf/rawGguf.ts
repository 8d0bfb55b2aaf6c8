// A tiny, deliberately independent GGUF byte builder for hand-made fixtures (it shares no code with
// lib/gguf, so a bug in the writer cannot hide the same bug in the reader). `mark()` records the
// byte offset of the next field so tests can assert error offsets.

export class RawGguf {
  readonly #bytes: number[] = [];
  readonly #marks = new Map<string, number>();
  constructor(
    readonly le = true,
    readonly v1 = false,
  ) {}

  get length(): number {
    return this.#bytes.length;
  }
  mark(name: string): this {
    this.#marks.set(name, this.#bytes.length);
    return this;
  }
  at(name: string): number {
    const at = this.#marks.get(name);
    if (at === undefined) throw new Error(`no mark ${name}`);
    return at;
  }
  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.#bytes.push((bytes[i] as number) & 0xff);
    return this;
  }
  #int(value: bigint, width: number): this {
    const le: number[] = [];
    let v = BigInt.asUintN(width * 8, value);
    for (let i = 0; i < width; i++) {
      le.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.raw(this.le ? le : le.reverse());
  }
  u8(v: number): this {
    return this.#int(BigInt(v), 1);
  }
  u16(v: number): this {
    return this.#int(BigInt(v), 2);
  }
  u32(v: number | bigint): this {
    return this.#int(BigInt(v), 4);
  }
  u64(v: number | bigint): this {
    return this.#int(BigInt(v), 8);
  }
  f32(v: number): this {
    const b = new Uint8Array(new Float32Array([v]).buffer);
    return this.raw(this.le ? b : [...b].reverse());
  }
  f64(v: number): this {
    const b = new Uint8Array(new Float64Array([v]).buffer);
    return this.raw(this.le ? b : [...b].reverse());
  }
  /** A count or length: u32 in v1, u64 after. */
  len(v: number | bigint): this {
    return this.v1 ? this.u32(v) : this.u64(v);
  }
  str(s: string | Uint8Array): this {
    const b = typeof s === 'string' ? new TextEncoder().encode(s) : s;
    return this.len(b.length).raw(b);
  }
  /** magic, version, n_tensors, n_kv */
  header(version: number, nTensors: number | bigint, nKv: number | bigint): this {
    return this.raw([0x47, 0x47, 0x55, 0x46]).u32(version).len(nTensors).len(nKv);
  }
  /** tensor info: name, n_dims, ne..., type, offset */
  tensor(name: string, ne: Array<number | bigint>, type: number, offset: number | bigint): this {
    this.str(name).u32(ne.length);
    for (const d of ne) this.len(d);
    return this.u32(type).u64(offset);
  }
  padTo(alignment: number): this {
    while (this.#bytes.length % alignment) this.#bytes.push(0);
    return this;
  }
  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.#bytes.push(0);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }
}
