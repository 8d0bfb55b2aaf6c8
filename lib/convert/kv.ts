// Metadata in the order gguf-py's GGUFWriter writes it: a dict in insertion order, where setting a
// key again replaces its value in place, empty strings and empty arrays are not written, Python
// ints in arrays are INT32, floats FLOAT32 and str STRING.
import { GgufValueType } from '../gguf/types.js';
import type { GgufArray, GgufMetadataEntry, GgufValue } from '../gguf/types.js';

export class KvBuilder {
  readonly #entries = new Map<string, GgufMetadataEntry>();

  #set(key: string, type: GgufValueType, value: GgufValue): void {
    this.#entries.set(key, { key, type, value });
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get(key: string): GgufValue | undefined {
    return this.#entries.get(key)?.value;
  }

  uint32(key: string, value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`Expected a u32 for ${key} but received ${value}`);
    this.#set(key, GgufValueType.UINT32, value);
    return this;
  }

  int32(key: string, value: number): this {
    if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`Expected an i32 for ${key} but received ${value}`);
    this.#set(key, GgufValueType.INT32, value);
    return this;
  }

  float32(key: string, value: number): this {
    if (typeof value !== 'number') throw new TypeError(`Expected a number for ${key} but received ${String(value)}`);
    this.#set(key, GgufValueType.FLOAT32, value);
    return this;
  }

  bool(key: string, value: boolean): this {
    this.#set(key, GgufValueType.BOOL, value === true);
    return this;
  }

  /** Skipped when empty, as add_string does. */
  string(key: string, value: string): this {
    if (value) this.#set(key, GgufValueType.STRING, value);
    return this;
  }

  /** Skipped when empty, as add_array does. */
  stringArray(key: string, values: string[]): this {
    if (values.length) this.#set(key, GgufValueType.ARRAY, { itemType: GgufValueType.STRING, items: values } satisfies GgufArray);
    return this;
  }

  int32Array(key: string, values: Int32Array | number[]): this {
    if (values.length) this.#set(key, GgufValueType.ARRAY, { itemType: GgufValueType.INT32, items: Int32Array.from(values) });
    return this;
  }

  float32Array(key: string, values: Float32Array | number[]): this {
    if (values.length) this.#set(key, GgufValueType.ARRAY, { itemType: GgufValueType.FLOAT32, items: Float32Array.from(values) });
    return this;
  }

  boolArray(key: string, values: boolean[]): this {
    if (values.length) this.#set(key, GgufValueType.ARRAY, { itemType: GgufValueType.BOOL, items: values });
    return this;
  }

  entries(): GgufMetadataEntry[] {
    return [...this.#entries.values()];
  }
}
