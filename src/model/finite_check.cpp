#include "neuralom/model/finite_check.h"

#include <sstream>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"

namespace neuralom {

bool check_finite(const at::Tensor& x, const std::string& what, const std::vector<std::string>& channel_names,
                  bool warn_only) {
  if (at::isfinite(x).all().item<bool>()) return true;
  // Slow path: count per channel for the message.
  const at::Tensor bad = at::logical_not(at::isfinite(x)).sum(std::vector<int64_t>{0, 2, 3}).cpu();
  const at::Tensor nan = at::isnan(x).sum().cpu();
  std::ostringstream msg;
  msg << what << " contains non-finite values: ";
  int64_t total = 0, listed = 0;
  for (int64_t c = 0; c < bad.size(0); ++c) {
    const auto n = bad[c].item<int64_t>();
    if (n == 0) continue;
    total += n;
    if (listed++ < 5) {
      msg << (listed > 1 ? ", " : "") << n << " in channel " << c;
      if (static_cast<std::size_t>(c) < channel_names.size()) msg << " (" << channel_names[static_cast<std::size_t>(c)] << ")";
    }
  }
  if (listed > 5) msg << ", ... in " << listed << " channels";
  msg << "; " << total << " in total, " << nan.item<int64_t>() << " of them NaN";
  if (warn_only) {
    spdlog::warn("{}", msg.str());
    return false;
  }
  msg << " (the model diverged or its inputs hold Inf; use --on-nonfinite warn to continue anyway)";
  throw NumericalError(msg.str());
}

FiniteMonitor::FiniteMonitor(std::vector<std::string> channel_names, bool warn_only)
    : channel_names_(std::move(channel_names)), warn_only_(warn_only) {}

void FiniteMonitor::watch(const at::Tensor& x, std::string what) {
  if (!x.is_cuda()) {
    check_finite(x, what, channel_names_, warn_only_);
    return;
  }
  Pending p;
  p.x = x;
  p.what = std::move(what);
  p.count = at::empty({}, at::TensorOptions().dtype(at::kLong).pinned_memory(true));
  p.count.copy_(at::logical_not(at::isfinite(x)).sum(), /*non_blocking=*/true);
  p.copied = DeviceMarker::record(x.device());
  pending_.push_back(std::move(p));
}

void FiniteMonitor::report(const Pending& p) {
  if (p.count.item<int64_t>() == 0) return;  // host memory: no device synchronisation
  check_finite(p.x, p.what, channel_names_, warn_only_);
}

void FiniteMonitor::poll() {
  while (!pending_.empty() && pending_.front().copied.reached()) {
    const Pending p = std::move(pending_.front());
    pending_.pop_front();
    report(p);
  }
}

void FiniteMonitor::drain() {
  while (!pending_.empty()) {
    const Pending p = std::move(pending_.front());
    pending_.pop_front();
    p.copied.wait();
    report(p);
  }
}

}  // namespace neuralom
