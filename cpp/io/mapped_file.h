// A whole file mapped copy-on-write: opened read-only, mapped PROT_READ|PROT_WRITE with
// MAP_PRIVATE, so a write through a view changes only this process's pages and never the file
// (and never faults). Shared by the JS mapping object and every view it handed out
// (std::shared_ptr); unmap() may be called early, after every view was detached.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace gguf_forge {

/** A system call failed: carries errno, the syscall name and the path. */
class SystemError : public std::runtime_error {
 public:
  SystemError(int err, const std::string& syscall, const std::string& path);
  int err() const { return err_; }
  const std::string& syscall() const { return syscall_; }
  const std::string& path() const { return path_; }

 private:
  int err_;
  std::string syscall_;
  std::string path_;
};

class MappedFile {
 public:
  /** Maps the whole file; throws SystemError. Zero-length files are valid (nothing is mapped). */
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  /** Null for a zero-length file or after unmap(). */
  uint8_t* data() const { return data_; }
  bool unmapped() const { return unmapped_; }

  /** Releases the mapping now (idempotent). Callers must have detached every view first. */
  void unmap();

 private:
  MappedFile(std::string path, uint8_t* data, uint64_t size) : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  uint8_t* data_;
  uint64_t size_;
  bool unmapped_ = false;
  std::mutex mutex_;
};

}  // namespace gguf_forge
