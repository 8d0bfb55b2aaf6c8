// Positional writes cut into modest pieces. A buffered write() of several MiB lets the kernel (Linux
// 6.x with large folios) back it with multi-MiB page cache folios, which come from the high-order
// free blocks a virtual machine's balloon hands back to the host; every page of those must then be
// faulted in again by the host, which made 8 MiB writes of a 2 GB file 3-4x slower than 64 KiB
// ones on the development VM (perf: copy_folio_from_iter_atomic). Issuing the pieces from one pool
// thread costs a few microseconds each, far less than a JS round trip per piece would.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gguf_forge {

/** Pieces of this size keep folios small (order 4) while the syscall count stays negligible. */
constexpr size_t kWritePieceBytes = 64 * 1024;

/**
 * Writes all of [data, data + length) at `offset` of `fd` with pwrite in pieces of at most
 * `piece` bytes, retrying EINTR and short writes. Returns 0, or the errno of the failed call;
 * ENOSYS where the platform has no pwrite (the caller then writes another way).
 */
int write_all_at(int fd, const uint8_t* data, size_t length, uint64_t offset, size_t piece);

}  // namespace gguf_forge
