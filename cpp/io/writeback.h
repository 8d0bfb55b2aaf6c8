// Early writeback of a file range that was just written: the kernel starts writing those dirty
// pages to disk now instead of when a final fsync asks for all of them at once, so the disk works
// while the writer is still producing and that fsync finds little left to do.
#pragma once

#include <cstdint>

namespace gguf_forge {

/**
 * Starts (does not wait for) writeback of [offset, offset + length) of `fd`: sync_file_range with
 * SYNC_FILE_RANGE_WRITE on Linux. Returns 0, or an errno value; ENOSYS where the platform has no
 * such call (durability still comes from the caller's fsync; this only moves work earlier).
 */
int start_writeback(int fd, uint64_t offset, uint64_t length);

}  // namespace gguf_forge
