#include "neuralom/data/day_cache.h"

#include <chrono>

namespace neuralom {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

DayCache::DayCache(Loader loader, std::size_t capacity, bool background)
    : loader_(std::move(loader)), capacity_(capacity == 0 ? 1 : capacity), background_(background) {
  if (background_) thread_ = std::thread([this] { worker(); });
}

DayCache::~DayCache() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

at::Tensor DayCache::load_timed(int64_t day) {
  const auto t0 = Clock::now();
  at::Tensor t = loader_(day);
  std::lock_guard<std::mutex> lock(mutex_);
  load_seconds_ += seconds_since(t0);
  ++loads_;
  return t;
}

void DayCache::worker() {
  for (;;) {
    std::pair<int64_t, std::shared_ptr<std::promise<at::Tensor>>> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      job.second->set_value(load_timed(job.first));
    } catch (...) {
      job.second->set_exception(std::current_exception());
    }
  }
}

std::shared_future<at::Tensor> DayCache::schedule_locked(int64_t day) {
  auto promise = std::make_shared<std::promise<at::Tensor>>();
  std::shared_future<at::Tensor> future = promise->get_future().share();
  entries_[day] = Entry{future, ++clock_};
  queue_.emplace_back(day, std::move(promise));
  evict_locked();
  return future;
}

void DayCache::evict_locked() {
  // Drop the least recently used entries that are ready; in-flight loads stay.
  while (entries_.size() > capacity_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const bool ready = it->second.value.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if (ready && (victim == entries_.end() || it->second.last_use < victim->second.last_use)) victim = it;
    }
    if (victim == entries_.end()) return;
    entries_.erase(victim);
  }
}

void DayCache::prefetch(int64_t day) {
  if (!background_) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.count(day) != 0) return;
    schedule_locked(day);
  }
  cv_.notify_one();
}

at::Tensor DayCache::get(int64_t day) {
  std::shared_future<at::Tensor> future;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(day);
    if (it != entries_.end()) {
      it->second.last_use = ++clock_;
      future = it->second.value;
    }
  }
  if (!future.valid()) {
    // Not scheduled: load on this thread (counts as waiting, since compute is stalled).
    const auto t0 = Clock::now();
    std::shared_future<at::Tensor> loaded;
    try {
      std::promise<at::Tensor> p;
      p.set_value(load_timed(day));
      loaded = p.get_future().share();
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      wait_seconds_ += seconds_since(t0);
      throw;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    wait_seconds_ += seconds_since(t0);
    entries_[day] = Entry{loaded, ++clock_};
    evict_locked();
    return loaded.get();
  }
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    const auto t0 = Clock::now();
    future.wait();
    std::lock_guard<std::mutex> lock(mutex_);
    wait_seconds_ += seconds_since(t0);
  }
  return future.get();  // rethrows the loader's exception
}

double DayCache::wait_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_seconds_;
}

double DayCache::load_seconds() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return load_seconds_;
}

int64_t DayCache::loads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loads_;
}

}  // namespace neuralom
