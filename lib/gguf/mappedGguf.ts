import { MappedFile } from '../mappedFile.js';
import { readGgufHeaderSync } from './reader.js';
import { GgufError } from './errors.js';
import type { GgufHeader, GgufTensorInfo } from './types.js';

/**
 * A GGUF file whose tensor data is reachable as zero-copy views of a memory mapping.
 * close() (or `using`) unmaps at once and detaches every view handed out.
 */
export class MappedGguf implements Disposable {
  readonly header: GgufHeader;
  readonly #file: MappedFile;
  readonly #byName: Map<string, GgufTensorInfo>;

  private constructor(header: GgufHeader, file: MappedFile) {
    this.header = header;
    this.#file = file;
    this.#byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  static open(path: string): MappedGguf {
    const header = readGgufHeaderSync(path);
    const file = MappedFile.open(path);
    if (file.size !== header.fileSize) {
      file.close();
      throw new GgufError('ERR_GGUF_TENSOR_EXTENT', `${path} changed size while it was being opened`, { offset: header.fileSize, file: path });
    }
    return new MappedGguf(header, file);
  }

  get path(): string {
    return this.#file.path;
  }

  tensor(name: string): GgufTensorInfo | undefined {
    return this.#byName.get(name);
  }

  /** The raw bytes of a tensor (for big-endian files, still byte-swapped as stored). */
  tensorData(tensor: string | GgufTensorInfo): Uint8Array {
    const info = typeof tensor === 'string' ? this.#byName.get(tensor) : tensor;
    if (!info) throw new RangeError(`Expected the name of a tensor in ${this.path} but received ${String(tensor)} of type ${typeof tensor}`);
    return this.#file.view(this.header.dataOffset + info.offset, info.byteLength);
  }

  close(): void {
    this.#file.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
