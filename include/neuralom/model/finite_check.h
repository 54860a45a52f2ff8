// The check that a model output holds no NaN or Inf: an error by default, a warning on request.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/model/device_queue.h"

namespace neuralom {

/// `x`: a model output `[B, C, H, W]` (any device, floating point). Throws NumericalError if it
/// holds NaN or Inf, naming `what` (e.g. "prediction for lead day 12 of IC 5"), the first affected
/// channels (with their `channel_names` where given) and the counts. With `warn_only`, logs a
/// warning instead and returns false. Returns true if all values are finite.
bool check_finite(const at::Tensor& x, const std::string& what, const std::vector<std::string>& channel_names,
                  bool warn_only = false);

/// check_finite() without stalling a GPU: the day loop hands each prediction to watch(); on the
/// CPU it is checked at once (exactly check_finite), on CUDA the count of non-finite values is
/// computed on the device and copied to pinned host memory asynchronously, and read by a later
/// poll() once it has arrived, or by drain() (at the end of a batch, before anything is kept).
/// A prediction found non-finite is then reported by check_finite on the kept tensor, with the
/// same message and consequences (NumericalError, or a warning with `warn_only`).
class FiniteMonitor {
 public:
  FiniteMonitor(std::vector<std::string> channel_names, bool warn_only);

  /// Queues the check of `x` (any device, floating point), described by `what`. On the CPU,
  /// checks at once and throws as check_finite. On CUDA, never blocks.
  void watch(const at::Tensor& x, std::string what);
  /// Reports the queued checks whose results have arrived. Never blocks.
  void poll();
  /// Waits for every queued check and reports them.
  void drain();
  /// Checks queued and not yet reported.
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    at::Tensor x;      ///< kept for the message's per-channel counts
    at::Tensor count;  ///< int64 scalar in pinned host memory, written by the device
    DeviceMarker copied;
    std::string what;
  };
  void report(const Pending& p);

  std::vector<std::string> channel_names_;
  bool warn_only_;
  std::deque<Pending> pending_;
};

}  // namespace neuralom
