// Zero-copy views of files through the addon's memory mapping.
import { loadNative, type NativeMapping } from './native.js';

/**
 * A memory-mapped file. Views are Uint8Arrays over the mapping (no copy into the JS heap);
 * the mapping is released when the last view is collected, or at once by close(), which
 * detaches every view still alive (their length becomes 0) so nothing can read unmapped memory.
 */
export class MappedFile implements Disposable {
  readonly path: string;
  readonly #mapping: NativeMapping;

  private constructor(path: string, mapping: NativeMapping) {
    this.path = path;
    this.#mapping = mapping;
  }

  /** Maps the whole file read-only (copy-on-write: writing into a view never changes the file). */
  static open(path: string): MappedFile {
    if (typeof path !== 'string' || path.length === 0) {
      throw new TypeError(`Expected a non-empty string for path but received ${String(path)} of type ${typeof path}`);
    }
    return new MappedFile(path, loadNative().mapFile(path));
  }

  get size(): number {
    return this.#mapping.size;
  }

  get closed(): boolean {
    return this.#mapping.closed;
  }

  /** Bytes [offset, offset + length) of the file, without copying. */
  view(offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`Expected a non-negative integer for offset but received ${offset} of type ${typeof offset}`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Expected a non-negative integer for length but received ${length} of type ${typeof length}`);
    }
    if (offset + length > this.size) {
      throw new RangeError(`Range [${offset}, ${offset + length}) is outside ${this.path} (${this.size} bytes)`);
    }
    return new Uint8Array(this.#mapping.view(offset, length));
  }

  close(): void {
    this.#mapping.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
