// SHA-256 digests, for recording exactly which model and data files a run used (run.json).
// Computed by OpenSSL's libcrypto (EVP interface).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace neuralom {

/// Incremental SHA-256 (FIPS 180-4).
class Sha256 {
 public:
  /// Throws std::runtime_error if OpenSSL cannot set up the digest (out of memory, a broken
  /// OpenSSL configuration).
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /// Adds `size` bytes. Throws std::logic_error after hex_digest(), std::runtime_error if OpenSSL fails.
  void update(const void* data, std::size_t size);
  /// Lower-case hex digest (64 characters). Finishes the digest: update() may not follow.
  std::string hex_digest();

 private:
  struct ContextDeleter {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, ContextDeleter> context_;
  bool finished_ = false;
};

/// Digest of a byte string.
std::string sha256_hex(const std::string& bytes);

/// Digest of a file's content, streamed in large blocks. Throws InputError if it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace neuralom
