// Positional writes of whole chunks through the addon's writeAt (64 KiB pwrite pieces on a pool
// thread; cpp/io/piecewise_write.h says why), or through the FileHandle where the addon is missing.
import type { FileHandle } from 'node:fs/promises';
import { getSystemErrorName } from 'node:util';
import { optionalNativeCall } from './native.js';

const ENOSYS = 38;

/** The error node:fs would throw for a failed write, from an errno value. */
function writeError(errno: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  const error: NodeJS.ErrnoException = new Error(`${code}: write failed (errno ${errno})`);
  error.code = code;
  error.errno = -errno;
  error.syscall = 'write';
  return error;
}

/** Writes all of `bytes` at `position`; `bytes` must not change until the promise settles. */
export async function writeAllAt(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  const writeAt = optionalNativeCall('writeAt');
  if (writeAt !== null && bytes.length > 0) {
    const errno = await writeAt(handle.fd, bytes, position);
    if (errno === 0) return;
    if (errno !== ENOSYS) throw writeError(errno);
  }
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}
