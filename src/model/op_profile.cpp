#include "neuralom/model/op_profile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <ATen/record_function.h>

namespace neuralom {
namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  int64_t calls = 0;
  int64_t self_ns = 0;
  int64_t total_ns = 0;
};

/// An operator running on this thread: when it started and how long the operators it called took.
struct Frame {
  Clock::time_point start;
  int64_t child_ns = 0;
  uint64_t profile = 0;  ///< the profile that saw it start
};

// The callbacks are plain functions, so the profile's state is the process's. A profile counts
// only frames it saw start: an operator that was running when it began is not counted, and one
// left running when it stopped is dropped (by its number) from its thread's stack later.
thread_local std::vector<Frame> t_stack;
std::atomic<uint64_t> g_profile{0};  // the profile recording now; 0 = none
uint64_t g_last_profile = 0;         // guarded by g_mutex
std::mutex g_mutex;
std::unordered_map<std::string, Totals> g_totals;  // guarded by g_mutex

/// Present for every frame, so that ATen calls the end callback whatever it does with an empty
/// context.
struct Context final : at::ObserverContext {};

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& /*fn*/) {
  const uint64_t profile = g_profile.load(std::memory_order_relaxed);
  if (profile == 0) return nullptr;
  if (!t_stack.empty() && t_stack.front().profile != profile) t_stack.clear();  // an earlier profile's
  t_stack.push_back(Frame{Clock::now(), 0, profile});
  return std::make_unique<Context>();
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* /*context*/) {
  const uint64_t profile = g_profile.load(std::memory_order_relaxed);
  if (profile == 0 || t_stack.empty() || t_stack.back().profile != profile) return;
  const Frame frame = t_stack.back();
  t_stack.pop_back();
  const int64_t total = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - frame.start).count();
  if (!t_stack.empty()) t_stack.back().child_ns += total;
  const std::string name(fn.name());
  std::lock_guard<std::mutex> lock(g_mutex);
  Totals& t = g_totals[name];
  ++t.calls;
  t.self_ns += total - frame.child_ns;
  t.total_ns += total;
}

}  // namespace

struct OpProfile::State {
  at::CallbackHandle handle = 0;
  bool stopped = false;
  std::vector<OpTime> result;
};

OpProfile::OpProfile() : state_(std::make_unique<State>()) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_profile.load() != 0) throw std::logic_error("OpProfile: a profile is already recording");
    g_totals.clear();
    g_profile.store(++g_last_profile);
  }
  state_->handle = at::addGlobalCallback(
      at::RecordFunctionCallback(&on_start, &on_end).scopes({at::RecordScope::FUNCTION}));
}

OpProfile::~OpProfile() { stop(); }

std::vector<OpTime> OpProfile::stop() {
  if (state_->stopped) return state_->result;
  at::removeCallback(state_->handle);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_profile.store(0);
  state_->stopped = true;
  for (const auto& [name, t] : g_totals) {
    state_->result.push_back(OpTime{name, t.calls, 1e-9 * static_cast<double>(t.self_ns),
                                    1e-9 * static_cast<double>(t.total_ns)});
  }
  g_totals.clear();
  std::sort(state_->result.begin(), state_->result.end(), [](const OpTime& a, const OpTime& b) {
    return a.self_seconds != b.self_seconds ? a.self_seconds > b.self_seconds : a.name < b.name;
  });
  return state_->result;
}

}  // namespace neuralom
