// The background day cache: loads each day once, bounds memory, propagates errors.
#include "neuralom/data/day_cache.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

struct CountingLoader {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  at::Tensor operator()(int64_t day) const {
    ++*calls;
    if (day < 0) throw InputError("no day " + std::to_string(day));
    return at::full({2}, static_cast<double>(day));
  }
};

TEST(DayCache, ReturnsTheRequestedDayAndLoadsItOnce) {
  for (const bool background : {false, true}) {
    CountingLoader loader;
    DayCache cache(loader, 4, background);
    cache.prefetch(3);
    cache.prefetch(3);
    EXPECT_EQ(cache.get(3)[0].item<double>(), 3.0);
    EXPECT_EQ(cache.get(3)[1].item<double>(), 3.0);
    EXPECT_EQ(loader.calls->load(), 1) << "background=" << background;
    EXPECT_EQ(cache.loads(), 1);
  }
}

TEST(DayCache, PrefetchLoadsAheadInTheBackground) {
  CountingLoader loader;
  DayCache cache(loader, 8, true);
  for (int64_t d = 0; d < 5; ++d) cache.prefetch(d);
  // Wait (bounded) for the worker; get() would load on demand otherwise.
  for (int i = 0; i < 500 && loader.calls->load() < 5; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(loader.calls->load(), 5);
  for (int64_t d = 0; d < 5; ++d) EXPECT_EQ(cache.get(d)[0].item<double>(), static_cast<double>(d));
  EXPECT_EQ(loader.calls->load(), 5);
}

TEST(DayCache, KeepsAtMostCapacityDays) {
  CountingLoader loader;
  DayCache cache(loader, 2, false);
  (void)cache.get(0);
  (void)cache.get(1);
  (void)cache.get(2);  // evicts day 0, the least recently used
  (void)cache.get(1);
  EXPECT_EQ(loader.calls->load(), 3);
  (void)cache.get(0);  // reloaded
  EXPECT_EQ(loader.calls->load(), 4);
}

TEST(DayCache, PropagatesLoaderErrors) {
  CountingLoader loader;
  DayCache cache(loader, 2, true);
  cache.prefetch(-1);
  EXPECT_THROW((void)cache.get(-1), InputError);
  EXPECT_EQ(cache.get(5)[0].item<double>(), 5.0);  // the cache still works afterwards
}

}  // namespace
}  // namespace neuralom
