// One safetensors file: its validated header, zero-copy views of tensor data through a memory
// mapping, and positional reads into caller buffers (for streaming without growing the resident set
// by the whole file, as touching every page of a mapping would).
import { closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import { MappedFile } from '../mappedFile.js';
import { SafetensorsError } from './errors.js';
import { headerLengthOf, parseSafetensorsHeader, type SafetensorsHeader, type SafetensorsTensorInfo } from './header.js';

function readFully(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function readAsync(fd: number, target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, target, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
  });
}

export class SafetensorsFile implements Disposable {
  readonly path: string;
  readonly header: SafetensorsHeader;
  readonly #byName: Map<string, SafetensorsTensorInfo>;
  #fd: number | undefined;
  #mapping: MappedFile | undefined;

  private constructor(path: string, fd: number, header: SafetensorsHeader) {
    this.path = path;
    this.#fd = fd;
    this.header = header;
    this.#byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /** Opens the file and validates its header (only the header is read). */
  static open(path: string): SafetensorsFile {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError(`Expected a non-empty string for path but received ${String(path)} of type ${typeof path}`);
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const prefix = new Uint8Array(8);
      const got = readFully(fd, prefix, 0);
      const n = headerLengthOf(prefix.subarray(0, got), size, path);
      const bytes = new Uint8Array(8 + n);
      if (readFully(fd, bytes, 0) !== bytes.length) throw new SafetensorsError('ERR_SAFETENSORS_CHANGED', `${path} became shorter while its header was read`, { file: path });
      return new SafetensorsFile(path, fd, parseSafetensorsHeader(bytes, size, path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get tensors(): readonly SafetensorsTensorInfo[] {
    return this.header.tensors;
  }

  tensor(name: string): SafetensorsTensorInfo | undefined {
    return this.#byName.get(name);
  }

  #info(tensor: string | SafetensorsTensorInfo): SafetensorsTensorInfo {
    const info = this.#byName.get(typeof tensor === 'string' ? tensor : tensor?.name);
    if (!info || (typeof tensor !== 'string' && tensor.offset !== info.offset)) {
      throw new SafetensorsError('ERR_SAFETENSORS_NOT_FOUND', `No tensor ${JSON.stringify(typeof tensor === 'string' ? tensor : tensor?.name)} in this file`, { file: this.path });
    }
    return info;
  }

  #openFd(): number {
    if (this.#fd === undefined) throw new SafetensorsError('ERR_SAFETENSORS_CLOSED', `${this.path} is closed`, { file: this.path });
    return this.#fd;
  }

  /** The tensor's bytes as a view of a read-only mapping of the file (no copy). */
  tensorData(tensor: string | SafetensorsTensorInfo): Uint8Array {
    const info = this.#info(tensor);
    this.#openFd();
    if (!this.#mapping) {
      const mapping = MappedFile.open(this.path);
      if (mapping.size !== this.header.fileSize) {
        mapping.close();
        throw new SafetensorsError('ERR_SAFETENSORS_CHANGED', `${this.path} changed size since its header was read`, { file: this.path });
      }
      this.#mapping = mapping;
    }
    return this.#mapping.view(info.offset, info.byteLength);
  }

  /**
   * Reads `length` bytes starting `byteOffset` bytes into the tensor's data into `target` (a new
   * buffer when omitted) with positional reads, off the JS thread.
   */
  async read(tensor: string | SafetensorsTensorInfo, byteOffset: number, length: number, target?: Uint8Array): Promise<Uint8Array> {
    const info = this.#info(tensor);
    if (!Number.isSafeInteger(byteOffset) || !Number.isSafeInteger(length) || byteOffset < 0 || length < 0 || byteOffset + length > info.byteLength) {
      throw new RangeError(`Expected a range inside tensor "${info.name}" (${info.byteLength} bytes) but received [${byteOffset}, ${byteOffset + length})`);
    }
    const out = target ? target.subarray(0, length) : new Uint8Array(length);
    if (out.length !== length) throw new RangeError(`Expected a target of at least ${length} bytes but received ${target?.length}`);
    const fd = this.#openFd();
    let done = 0;
    while (done < length) {
      const n = await readAsync(fd, out, done, length - done, info.offset + byteOffset + done);
      if (n === 0) throw new SafetensorsError('ERR_SAFETENSORS_CHANGED', `${this.path} ended early: it changed since its header was read`, { file: this.path, offset: info.offset + byteOffset + done, tensor: info.name });
      done += n;
    }
    return out;
  }

  /** Unmaps the file (detaching every view handed out) and closes it. Safe to call twice. */
  close(): void {
    this.#mapping?.close();
    this.#mapping = undefined;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
