// A bounded cache of normalised days, filled ahead of use by a background thread so that reading
// and normalising the next days overlaps the model's compute.
//
// The rollout announces the days it will need next (prefetch) and then takes them (get). Memory
// is bounded by `capacity` days whatever the year length, prediction length or IC count.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include <ATen/core/Tensor.h>

namespace neuralom {

class DayCache {
 public:
  using Loader = std::function<at::Tensor(int64_t day)>;

  /// `capacity` ≥ 1 days are kept. With `background` false, loads happen in get() (no thread).
  DayCache(Loader loader, std::size_t capacity, bool background = true);
  ~DayCache();  ///< stops the worker; pending loads are abandoned
  DayCache(const DayCache&) = delete;
  DayCache& operator=(const DayCache&) = delete;

  /// Schedules `day` for loading if it is neither cached nor queued. Never blocks on I/O.
  void prefetch(int64_t day);

  /// Returns `day`, loading it now if needed; blocks while it is being loaded. Rethrows the
  /// loader's exception (e.g. InputError) for that day.
  at::Tensor get(int64_t day);

  /// Seconds get() spent waiting for data that was not ready (the I/O the compute did not hide).
  double wait_seconds() const;
  /// Seconds the loader spent in total (reading + normalising), on whatever thread.
  double load_seconds() const;
  int64_t loads() const;

 private:
  struct Entry {
    std::shared_future<at::Tensor> value;
    uint64_t last_use = 0;
  };
  void worker();
  void evict_locked();
  std::shared_future<at::Tensor> schedule_locked(int64_t day);
  at::Tensor load_timed(int64_t day);

  Loader loader_;
  std::size_t capacity_;
  bool background_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int64_t, Entry> entries_;
  std::deque<std::pair<int64_t, std::shared_ptr<std::promise<at::Tensor>>>> queue_;
  uint64_t clock_ = 0;
  bool stop_ = false;
  double wait_seconds_ = 0.0;
  double load_seconds_ = 0.0;
  int64_t loads_ = 0;
  std::thread thread_;
};

}  // namespace neuralom
