#include "neuralom/model/host_buffer_cache.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include "neuralom/model/torch_compat.h"

// Under AddressSanitizer, blocks held unused are poisoned, so that a use after free of a cached
// buffer is still reported as one.
// NEURALOM_ASAN is set by cmake/NeuralomSanitizers.cmake.
#ifdef NEURALOM_ASAN
#include <sanitizer/asan_interface.h>
#define NEURALOM_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define NEURALOM_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define NEURALOM_POISON(p, n) ((void)(p), (void)(n))
#define NEURALOM_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace neuralom {
namespace {

constexpr std::size_t kAlignment = 64;               // as LibTorch's own CPU allocator
constexpr std::size_t kGranule = std::size_t{1} << 16;  // sizes rounded up to 64 KiB

std::size_t rounded(std::size_t n) { return (n + kGranule - 1) / kGranule * kGranule; }

/// The largest held block that may serve a request of `size` bytes, when none of its own size is
/// held: a day-step's tensors come in families of close sizes (all grid points and the ocean
/// points, whole and last edge chunks), and a block up to a quarter larger is better used than
/// fresh memory, which the kernel zeroes page by page.
std::size_t largest_fit(std::size_t size) { return size + size / 4; }

/// The process's one cache. Never destroyed: a tensor may outlive any HostBufferCache object
/// (and static destruction order), and its deleter still finds the cache here.
class Pool final : public c10::Allocator {
 public:
  void enable(int64_t cap, c10::Allocator* fallback) {
    std::lock_guard<std::mutex> lock(mutex_);
    cap_ = cap;
    fallback_ = fallback;
    fallback_raw_deleter_ = fallback->raw_deleter();
    enabled_ = true;
    stats_ = {};
  }

  c10::Allocator* disable() {
    std::lock_guard<std::mutex> lock(mutex_);
    enabled_ = false;
    release_locked();
    return fallback_;
  }

  HostBufferCacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

#if NEURALOM_TORCH_AT_LEAST(2, 3)
  c10::DataPtr allocate(std::size_t n) override { return allocate_impl(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }
#else
  c10::DataPtr allocate(std::size_t n) const override { return const_cast<Pool*>(this)->allocate_impl(n); }
#endif

 private:
  c10::DataPtr allocate_impl(std::size_t n) {
    c10::Allocator* fallback = nullptr;
    bool ours = false;
    void* data = nullptr;
    const std::size_t size = rounded(n);
    std::size_t block = size;  // the block's own size: a reused one may be larger than asked for
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fallback = fallback_;
      ours = enabled_ && n >= HostBufferCache::kMinBytes;
      if (ours) {
        // The smallest held block of at least this size (map entries are never empty).
        auto it = free_.lower_bound(size);
        if (it != free_.end() && it->first <= largest_fit(size)) {
          block = it->first;
          data = it->second.back();
          it->second.pop_back();
          if (it->second.empty()) free_.erase(it);
          NEURALOM_UNPOISON(data, block);
          stats_.held_bytes -= static_cast<int64_t>(block);
          ++stats_.hits;
        } else {
          ++stats_.misses;
        }
      }
    }
    // Small blocks, and all blocks once the cache is switched off: LibTorch's own allocator.
    if (!ours) return fallback->allocate(n);
    if (data == nullptr) {
      data = std::aligned_alloc(kAlignment, size);  // size is a multiple of the alignment
      if (data == nullptr) throw std::bad_alloc();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      live_[data] = block;
    }
    // The context is the data pointer itself, as LibTorch's raw_allocate() requires.
    return c10::DataPtr(data, data, &Pool::release, c10::Device(c10::DeviceType::CPU));
  }

 public:
  // The deleter of every DataPtr this allocator made, and its raw_deleter(): a block of ours goes
  // back to the cache (or is freed when the cache is off or full); any other pointer came from
  // the fallback allocator (small raw allocations) and goes back to it.
  static void release(void* data) { pool_instance().give_back(data); }
  c10::DeleterFnPtr raw_deleter() const override { return &Pool::release; }

 private:
  static Pool& pool_instance();

  void give_back(void* data) {
    c10::DeleterFnPtr foreign = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = live_.find(data);
      if (it == live_.end()) {
        foreign = fallback_raw_deleter_;
      } else {
        const std::size_t size = it->second;
        live_.erase(it);
        if (enabled_ && stats_.held_bytes + static_cast<int64_t>(size) <= cap_) {
          NEURALOM_POISON(data, size);
          free_[size].push_back(data);
          stats_.held_bytes += static_cast<int64_t>(size);
          if (stats_.held_bytes > stats_.peak_held_bytes) stats_.peak_held_bytes = stats_.held_bytes;
          return;
        }
      }
    }
    if (foreign != nullptr) {
      foreign(data);
    } else {
      std::free(data);
    }
  }

  void release_locked() {
    for (auto& [size, blocks] : free_) {
      for (void* p : blocks) {
        NEURALOM_UNPOISON(p, size);
        std::free(p);
      }
    }
    free_.clear();
    stats_.held_bytes = 0;
  }

  std::mutex mutex_;
  bool enabled_ = false;
  int64_t cap_ = 0;
  c10::Allocator* fallback_ = nullptr;
  c10::DeleterFnPtr fallback_raw_deleter_ = nullptr;
  std::map<std::size_t, std::vector<void*>> free_;    // unused blocks by size (no empty entries)
  std::unordered_map<void*, std::size_t> live_;        // blocks in use, and their sizes
  HostBufferCacheStats stats_;
};

Pool& pool() {
  static Pool* p = new Pool();  // intentionally never deleted (see Pool)
  return *p;
}

Pool& Pool::pool_instance() { return pool(); }

}  // namespace
}  // namespace neuralom

namespace neuralom {

namespace {
std::mutex g_install_mutex;
bool g_installed = false;
}  // namespace

HostBufferCache::HostBufferCache(int64_t cap_bytes) {
  if (cap_bytes <= 0) return;
  std::lock_guard<std::mutex> lock(g_install_mutex);
  if (g_installed) throw std::logic_error("HostBufferCache: only one may be active at a time");
  pool().enable(cap_bytes, c10::GetCPUAllocator());
  c10::SetCPUAllocator(&pool(), /*priority=*/1);
  g_installed = true;
  active_ = true;
}

HostBufferCache::~HostBufferCache() {
  if (!active_) return;
  std::lock_guard<std::mutex> lock(g_install_mutex);
  c10::SetCPUAllocator(pool().disable(), /*priority=*/1);
  g_installed = false;
}

HostBufferCacheStats HostBufferCache::stats() { return pool().stats(); }

}  // namespace neuralom
