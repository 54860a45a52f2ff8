// A POSIX file descriptor closed on scope exit, for the readers that use pread()/read() directly.
#pragma once

#include <unistd.h>

#include <utility>

namespace neuralom::detail {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  /// Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

}  // namespace neuralom::detail
