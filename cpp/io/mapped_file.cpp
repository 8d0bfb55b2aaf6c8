#include "io/mapped_file.h"

#include <cerrno>
#include <cstring>
#include <limits>

#if defined(_WIN32)
#error "mapped_file.cpp: Windows mapping is not implemented yet"
#endif

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

static_assert(sizeof(off_t) == 8, "64-bit off_t is required for files over 2 GiB (define _FILE_OFFSET_BITS=64)");

namespace gguf_forge {

namespace {
std::string describe(int err, const std::string& syscall, const std::string& path) {
  return syscall + " '" + path + "': " + std::strerror(err);
}
}  // namespace

SystemError::SystemError(int err, const std::string& syscall, const std::string& path)
    : std::runtime_error(describe(err, syscall, path)), err_(err), syscall_(syscall), path_(path) {}

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) throw SystemError(errno, "open", path);

  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw SystemError(err, "fstat", path);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw SystemError(EISDIR, "mmap", path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw SystemError(ENODEV, "mmap", path);  // pipes, sockets, devices: nothing to map by size
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > std::numeric_limits<size_t>::max()) {
    ::close(fd);
    throw SystemError(EFBIG, "mmap", path);
  }

  void* data = nullptr;
  if (size > 0) {
    // Private + writable: a stray write from JS lands in a private copy of the page instead of
    // faulting (read-only) or reaching the file (shared). NORESERVE: no swap reservation for
    // pages that are only ever read.
    data = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
    if (data == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      throw SystemError(err, "mmap", path);
    }
  }
  ::close(fd);  // the mapping keeps its own reference to the file
  return std::shared_ptr<MappedFile>(new MappedFile(path, static_cast<uint8_t*>(data), size));
}

void MappedFile::unmap() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (unmapped_) return;
  unmapped_ = true;
  if (data_ != nullptr) ::munmap(data_, static_cast<size_t>(size_));
  data_ = nullptr;
}

MappedFile::~MappedFile() { unmap(); }

}  // namespace gguf_forge
