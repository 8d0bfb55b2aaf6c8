// Minimal protocol-buffers wire format: enough to read and write SentencePiece's ModelProto.
// Every length is checked against the bytes left before it is used.

export class ProtobufError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (byte ${offset})`);
    this.name = 'ProtobufError';
    this.offset = offset;
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export interface ProtobufField {
  field: number;
  wire: number;
  /** Varint value (as a number; values above 2^53 lose precision, which no field read here has). */
  varint?: number;
  /** Length-delimited payload, or the 4/8 raw bytes of a fixed field. */
  bytes?: Uint8Array;
  /** Offset of the field's key in the message. */
  offset: number;
}

export function* protobufFields(buf: Uint8Array): Generator<ProtobufField> {
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtobufError('Truncated varint', pos);
      const b = buf[pos++] as number;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError('Varint longer than 10 bytes', pos);
  };
  while (pos < buf.length) {
    const offset = pos;
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtobufError('Field number 0', offset);
    switch (wire) {
      case WIRE_VARINT:
        yield { field, wire, varint: varint(), offset };
        break;
      case WIRE_FIXED64:
      case WIRE_FIXED32: {
        const n = wire === WIRE_FIXED64 ? 8 : 4;
        if (pos + n > buf.length) throw new ProtobufError(`Truncated fixed${n * 8} field ${field}`, pos);
        yield { field, wire, bytes: buf.subarray(pos, pos + n), offset };
        pos += n;
        break;
      }
      case WIRE_BYTES: {
        const n = varint();
        if (n > buf.length - pos) throw new ProtobufError(`Field ${field} claims ${n} bytes but ${buf.length - pos} are left`, pos);
        yield { field, wire, bytes: buf.subarray(pos, pos + n), offset };
        pos += n;
        break;
      }
      default:
        throw new ProtobufError(`Unsupported wire type ${wire} for field ${field}`, offset);
    }
  }
}

/** Appends protobuf fields to a growing buffer. */
export class ProtobufWriter {
  #parts: Uint8Array[] = [];
  #length = 0;

  #push(bytes: Uint8Array): void {
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  #varint(value: number): void {
    const out: number[] = [];
    let v = value;
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) b |= 0x80;
      out.push(b);
    } while (v > 0);
    this.#push(Uint8Array.from(out));
  }

  varint(field: number, value: number): this {
    this.#varint(field * 8 + WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.#varint(field * 8 + WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.#push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array | string): this {
    const b = typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value;
    this.#varint(field * 8 + WIRE_BYTES);
    this.#varint(b.length);
    this.#push(b);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const p of this.#parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
