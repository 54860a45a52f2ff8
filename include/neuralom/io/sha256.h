// SHA-256 digests, for recording exactly which model and data files a run used (run.json).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace neuralom {

/// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  /// Lower-case hex digest (64 characters). The object must not be updated afterwards.
  std::string hex_digest();

 private:
  void compress(const std::uint8_t* block);
  std::uint32_t state_[8];
  std::uint8_t buffer_[64];
  std::uint64_t total_bytes_ = 0;
  std::size_t buffered_ = 0;
};

/// Digest of a byte string.
std::string sha256_hex(const std::string& bytes);

/// Digest of a file's content, read in large blocks. Throws InputError if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace neuralom
