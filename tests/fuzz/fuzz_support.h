// Helpers shared by the fuzz targets: a scratch directory for the files a target writes (the
// parsers read files, not buffers), a reader that turns the fuzz input into choices, and the
// check that a request which must be refused is refused.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "neuralom/core/errors.h"

namespace neuralom::fuzz {

/// A directory of this process's own under $TMPDIR (scripts/fuzz.sh points it at /dev/shm),
/// removed at exit.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() / ("neuralom_fuzz_" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline const std::filesystem::path& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

/// Writes `size` bytes to `<scratch>/<name>` (creating sub-directories) and returns the path.
inline std::string write_file(const std::string& name, const uint8_t* data, std::size_t size) {
  const std::filesystem::path path = scratch_dir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path.string();
}

inline std::string write_file(const std::string& name, const std::string& bytes) {
  return write_file(name, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

/// Consumes the fuzz input front to back; once it is exhausted every value is 0.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool flag() { return (byte() & 1) != 0; }
  /// A value in [0, n) for n >= 1.
  uint32_t below(uint32_t n) { return n <= 1 ? 0 : u32() % n; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  uint64_t u64() { return (static_cast<uint64_t>(u32()) << 32) | u32(); }
  /// Up to `max` bytes as a string (length from one byte).
  std::string text(std::size_t max) {
    std::size_t n = byte();
    if (n > max) n = max;
    std::string s;
    while (n-- > 0 && pos_ < size_) s.push_back(static_cast<char>(data_[pos_++]));
    return s;
  }
  /// Everything not consumed yet.
  std::string rest() {
    std::string s(reinterpret_cast<const char*>(data_ + pos_), size_ - pos_);
    pos_ = size_;
    return s;
  }
  bool empty() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

/// Aborts (a finding for the fuzzer) unless `f` throws a neuralom::Error: for requests that the
/// code must refuse, such as reads past the end of an array.
template <typename F>
void expect_refused(F&& f, const char* what) {
  try {
    f();
  } catch (const Error&) {
    return;
  }
  std::fprintf(stderr, "fuzz: %s was not refused\n", what);
  std::abort();
}

}  // namespace neuralom::fuzz
