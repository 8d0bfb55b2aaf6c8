#include "io/writeback.h"

#include <cerrno>

#if defined(__linux__)
#include <fcntl.h>
#endif

namespace gguf_forge {

int start_writeback(int fd, uint64_t offset, uint64_t length) {
#if defined(__linux__)
  if (sync_file_range(fd, static_cast<off64_t>(offset), static_cast<off64_t>(length), SYNC_FILE_RANGE_WRITE) == 0) return 0;
  return errno;
#else
  (void)fd;
  (void)offset;
  (void)length;
  return ENOSYS;
#endif
}

}  // namespace gguf_forge
