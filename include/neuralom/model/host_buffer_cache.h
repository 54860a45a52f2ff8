// Reuse of large CPU tensor buffers from one day-step to the next.
//
// Every day-step allocates the same large tensors again (grid activations of 259,200 x 432 floats,
// edge chunks, concatenations): hundreds of megabytes each. glibc serves such sizes with mmap and
// returns them with munmap, so each day-step pays for the kernel zeroing every page of them again
// on first touch: at full size on 2 cores that is about a third of the day-step. While a
// HostBufferCache is active, LibTorch's CPU allocations of at least kMinBytes come from a cache of
// freed blocks of the same (rounded) size instead — or, when it holds none, of the smallest up to
// a quarter larger (a day-step's sizes come in close families: all grid points and the ocean
// points, whole and last edge chunks) — and freed blocks go back to it, up to a cap on the bytes
// it holds unused; smaller allocations go to LibTorch's own allocator as before.
//
// Contents of a reused block are whatever the last tensor left (as with any at::empty); nothing
// in neuralom or in the exported networks reads memory it did not write.
#pragma once

#include <cstddef>
#include <cstdint>

namespace neuralom {

struct HostBufferCacheStats {
  int64_t hits = 0;           ///< large allocations served from the cache
  int64_t misses = 0;         ///< large allocations that needed new memory
  int64_t held_bytes = 0;     ///< bytes held unused in the cache now
  int64_t peak_held_bytes = 0;
};

class HostBufferCache {
 public:
  /// Blocks smaller than this are never cached (LibTorch's allocator serves them).
  static constexpr std::size_t kMinBytes = std::size_t{1} << 20;

  /// Routes LibTorch's CPU allocations through the cache, which holds at most `cap_bytes` of
  /// freed blocks (0: the cache is not installed at all). One at a time per process.
  explicit HostBufferCache(int64_t cap_bytes);
  /// Restores LibTorch's allocator and frees the unused blocks. Tensors still alive keep their
  /// memory, which is freed when they are.
  ~HostBufferCache();
  HostBufferCache(const HostBufferCache&) = delete;
  HostBufferCache& operator=(const HostBufferCache&) = delete;

  bool active() const { return active_; }
  static HostBufferCacheStats stats();

 private:
  bool active_ = false;
};

}  // namespace neuralom
