// HostBufferCache: large CPU buffers freed are handed out again, within the cap; small ones and
// everything after the cache ends go to LibTorch's own allocator.
#include "neuralom/model/host_buffer_cache.h"

#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>

#include <cstring>

#include <gtest/gtest.h>

namespace neuralom {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

at::Tensor floats(int64_t bytes) { return at::empty({bytes / 4}, at::kFloat); }

TEST(HostBufferCacheTest, AFreedLargeBufferIsReusedForTheSameSize) {
  const HostBufferCache cache(64 * kMiB);
  ASSERT_TRUE(cache.active());
  void* first = nullptr;
  {
    at::Tensor a = floats(4 * kMiB);
    a.fill_(1.5f);
    first = a.data_ptr();
  }
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 4 * kMiB);
  at::Tensor b = floats(4 * kMiB);
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(HostBufferCache::stats().hits, 1);
  EXPECT_EQ(HostBufferCache::stats().misses, 1);
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 0);
  // An ordinary tensor: what is written is read back.
  b.copy_(at::arange(b.numel(), at::kFloat));
  EXPECT_EQ(b[12345].item<float>(), 12345.0f);
  EXPECT_EQ(b.sum().item<double>(), static_cast<double>(b.numel()) * (b.numel() - 1) / 2.0);
}

TEST(HostBufferCacheTest, SizesAreRoundedTo64KiBAndSmallBuffersAreNotCached) {
  const HostBufferCache cache(64 * kMiB);
  void* first = nullptr;
  {
    at::Tensor a = floats(2 * kMiB + 4);  // rounded up to 2 MiB + 64 KiB
    first = a.data_ptr();
  }
  at::Tensor b = floats(2 * kMiB + 1000);  // the same rounded size
  EXPECT_EQ(b.data_ptr(), first);
  { at::Tensor small = floats(HostBufferCache::kMinBytes / 2); }
  const HostBufferCacheStats s = HostBufferCache::stats();
  EXPECT_EQ(s.hits, 1);
  EXPECT_EQ(s.misses, 1);
  EXPECT_EQ(s.held_bytes, 0);
}

TEST(HostBufferCacheTest, ALargerBlockServesARequestUpToAQuarterSmaller) {
  const HostBufferCache cache(64 * kMiB);
  void* block = nullptr;
  {
    at::Tensor a = floats(8 * kMiB);
    block = a.data_ptr();
  }
  {
    // 6.5 MiB: 8 MiB is within a quarter above it, and no 6.5 MiB block is held.
    at::Tensor b = floats(6 * kMiB + kMiB / 2);
    EXPECT_EQ(b.data_ptr(), block);
    EXPECT_EQ(HostBufferCache::stats().held_bytes, 0);
    b.fill_(3.0f);
    EXPECT_EQ(b[b.numel() - 1].item<float>(), 3.0f);
  }
  // It went back as the 8 MiB block it is.
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 8 * kMiB);
  {
    at::Tensor c = floats(6 * kMiB);  // 8 MiB is more than a quarter above 6 MiB: fresh memory
    EXPECT_NE(c.data_ptr(), block);
    EXPECT_EQ(HostBufferCache::stats().held_bytes, 8 * kMiB);
  }
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 14 * kMiB);
  // The exact size is preferred, then the smallest that fits.
  at::Tensor d = floats(6 * kMiB);
  at::Tensor e = floats(8 * kMiB);
  EXPECT_EQ(e.data_ptr(), block);
  const HostBufferCacheStats s = HostBufferCache::stats();
  EXPECT_EQ(s.hits, 3);
  EXPECT_EQ(s.misses, 2);
}

TEST(HostBufferCacheTest, HoldsNoMoreThanItsCap) {
  const HostBufferCache cache(10 * kMiB);
  {
    at::Tensor a = floats(4 * kMiB);
    at::Tensor b = floats(4 * kMiB);
    at::Tensor c = floats(4 * kMiB);
  }
  const HostBufferCacheStats s = HostBufferCache::stats();
  EXPECT_EQ(s.held_bytes, 8 * kMiB);  // the third block did not fit and was freed
  EXPECT_EQ(s.peak_held_bytes, 8 * kMiB);
}

TEST(HostBufferCacheTest, ZeroCapInstallsNothingAndTheAllocatorIsRestored) {
  c10::Allocator* before = c10::GetCPUAllocator();
  {
    const HostBufferCache off(0);
    EXPECT_FALSE(off.active());
    EXPECT_EQ(c10::GetCPUAllocator(), before);
  }
  at::Tensor outlives;
  {
    const HostBufferCache cache(16 * kMiB);
    EXPECT_NE(c10::GetCPUAllocator(), before);
    outlives = floats(4 * kMiB);
    outlives.fill_(2.0f);
  }
  EXPECT_EQ(c10::GetCPUAllocator(), before);
  EXPECT_EQ(outlives.sum().item<double>(), 2.0 * static_cast<double>(outlives.numel()));
  outlives = at::Tensor();  // freed now, by the cache's deleter, with the cache off
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 0);
}

TEST(HostBufferCacheTest, RawAllocationsOfBothSizesGoBackWhereTheyCameFrom) {
  // Some LibTorch kernels take scratch memory with raw_allocate()/raw_deallocate().
  const HostBufferCache cache(16 * kMiB);
  c10::Allocator* allocator = c10::GetCPUAllocator();
  void* big = allocator->raw_allocate(4 * kMiB);
  void* small = allocator->raw_allocate(1000);
  std::memset(big, 1, 4 * kMiB);
  std::memset(small, 2, 1000);
  allocator->raw_deallocate(big);
  allocator->raw_deallocate(small);
  EXPECT_EQ(HostBufferCache::stats().held_bytes, 4 * kMiB);
  EXPECT_EQ(allocator->raw_allocate(4 * kMiB), big);  // reused
  allocator->raw_deallocate(big);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
// A block held in the cache is poisoned: a use after free of a cached buffer is still reported.
TEST(HostBufferCacheTest, AnUnusedBlockIsPoisonedUnderAddressSanitizer) {
  EXPECT_DEATH(
      {
        const HostBufferCache cache(16 * kMiB);
        float* stale = nullptr;
        {
          at::Tensor a = floats(4 * kMiB);
          stale = a.data_ptr<float>();
        }
        stale[100] = 1.0f;  // the tensor is gone; its block is in the cache
      },
      "use-after-poison");
}
#endif
#endif

TEST(HostBufferCacheTest, OnlyOneAtATime) {
  const HostBufferCache cache(8 * kMiB);
  EXPECT_THROW(HostBufferCache second(8 * kMiB), std::logic_error);
}

}  // namespace
}  // namespace neuralom
