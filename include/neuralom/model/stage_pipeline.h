// The progressive residual correction: one ocean day-step through the chain of stage models.
//
//   y = M ⊙ S1(x);   then for each further stage k:   y = M ⊙ (Sk(y) + y)
//
// where M is the per-channel ocean mask (land set to 0, in normalised space). With the reference's
// two stages this is y = M ⊙ (S2(M ⊙ S1(x)) + M ⊙ S1(x)).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/model/device_queue.h"
#include "neuralom/model/model.h"

namespace neuralom {

namespace detail {
class CudaGraphStep;
}  // namespace detail

class StagePipeline {
 public:
  /// `stages`: stage 1 first, at least one. `ocean_mask`: bool `[C_out, H, W]` (true = ocean).
  /// Checks that the stages fit together (stage k ≥ 2 maps C_out → C_out on the same grid) and
  /// that the mask fits; moves the mask to the stages' device. Throws ModelError / InputError.
  StagePipeline(std::vector<Model> stages, const at::Tensor& ocean_mask);
  ~StagePipeline();
  // Not movable: a CUDA graph step refers to its pipeline (hold it by unique_ptr).
  StagePipeline(const StagePipeline&) = delete;
  StagePipeline& operator=(const StagePipeline&) = delete;

  /// One day-step: `x` float32 `[B, C_in, H, W]` on the device → masked float32
  /// `[B, C_out, H, W]`. The residual sum and the mask are float32 whatever the models' precision
  /// (their outputs are float32). Queues the work and returns without waiting for the device.
  at::Tensor step(const at::Tensor& x) const;

  /// Capture the day-step in a CUDA graph after `warmup_steps` eager steps of the run's batch size
  /// and replay it from then on (other batch sizes stay eager). Turns per-stage timing off (a
  /// graph is timed as a whole). Throws ConfigError on a CPU device or in a build without CUDA.
  void enable_cuda_graphs(int64_t warmup_steps = 3);
  /// Whether a CUDA graph of the day-step has been captured.
  bool cuda_graph_captured() const;

  const std::vector<Model>& stages() const { return stages_; }
  const Model& first() const { return stages_.front(); }
  int64_t ocean_channels() const { return stages_.front().metadata().out_channels; }
  /// Forcing channels per day in stage 1's input: (C_in − C_out) / 2.
  int64_t forcing_channels() const;
  int64_t height() const { return stages_.front().metadata().height; }
  int64_t width() const { return stages_.front().metadata().width; }
  /// Land points `[1, C_out, H, W]` bool on the device.
  const at::Tensor& land() const { return land_; }

  /// Measure each stage's time: host clock on the CPU, CUDA events on a GPU (no host waits in
  /// the day loop; the times are read when they have arrived). For benchmarks.
  void set_stage_timing(bool enabled);
  /// Seconds spent in each stage so far (zeros unless timing is on). On CUDA, waits for the
  /// stages queued so far (call it at the end of a run, not in the day loop).
  const std::vector<double>& stage_seconds() const;

 private:
  struct StageTiming {
    std::size_t stage;
    DeviceMarker begin, end;
  };

  at::Tensor run_stage(std::size_t k, const at::Tensor& x) const;
  at::Tensor step_eager(const at::Tensor& x) const;
  /// Adds the timings whose end markers the device has reached (all, and waiting, if `wait`).
  void collect_timings(bool wait) const;

  std::vector<Model> stages_;
  at::Tensor land_;
  bool time_stages_ = false;
  mutable std::vector<double> stage_seconds_;
  mutable std::deque<StageTiming> pending_timings_;
  std::unique_ptr<detail::CudaGraphStep> graph_;
};

}  // namespace neuralom
