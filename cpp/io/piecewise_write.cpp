#include "io/piecewise_write.h"

#include <algorithm>
#include <cerrno>

#if !defined(_WIN32)
#include <unistd.h>
#endif

namespace gguf_forge {

int write_all_at(int fd, const uint8_t* data, size_t length, uint64_t offset, size_t piece) {
#if defined(_WIN32)
  (void)fd;
  (void)data;
  (void)length;
  (void)offset;
  (void)piece;
  return ENOSYS;
#else
  if (piece == 0) piece = kWritePieceBytes;
  size_t done = 0;
  while (done < length) {
    const size_t want = std::min(piece, length - done);
    const ssize_t n = pwrite(fd, data + done, want, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // a regular file never accepts nothing without an error
    done += static_cast<size_t>(n);
  }
  return 0;
#endif
}

}  // namespace gguf_forge
