// Where a run's CPU time goes, operator by operator: `neuralom bench --profile-ops`.
//
// An OpProfile records, while it exists, every ATen and custom (neuralom::) operator that any
// thread of the process calls through the dispatcher — the TorchScript interpreter calls each
// operator of a network that way — with ATen's RecordFunction callbacks: its number of calls, its
// total time (wall clock from its start to its end, on its thread) and its self time (the total
// less the total of the operators it called itself, such as aten::linear's aten::addmm). The
// self times of one thread add up to the time that thread spent in operators, so they say which
// operators a faster engine has to make faster. Time spent in parallel regions of an operator is
// counted once, on the calling thread. Unlike Python's profiler it sees the engine itself:
// its fused kernels, its buffer reuse and its other threads (input normalisation runs beside the
// model, so the sum over threads can exceed the wall time).
//
// On a GPU the operators return before their kernels finish, so the times are launch times;
// use NVIDIA Nsight Systems there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace neuralom {

struct OpTime {
  std::string name;  ///< e.g. "aten::addmm", "neuralom::edge_silu"
  int64_t calls = 0;
  double self_seconds = 0.0;
  double total_seconds = 0.0;
};

class OpProfile {
 public:
  /// Starts recording. One profile at a time: a second one throws std::logic_error.
  OpProfile();
  ~OpProfile();
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  /// Stops recording (later calls return the same) and returns every operator seen, by self time,
  /// the largest first (ties by name).
  std::vector<OpTime> stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace neuralom
