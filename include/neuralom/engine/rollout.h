// The autoregressive rollout over initial conditions, in batches:
//
//   state(0) = Z[ic] ocean channels (unmasked, as the reference)
//   state(k) = pipeline([state(k−1), F(k−1), F(k)])      k = 1 .. P−1
//
// Each lead's prediction and truth go to the sinks (metrics, field writer, progress). The
// reference's extra, discarded evaluation after the last step is skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "neuralom/data/day_cache.h"
#include "neuralom/forcing/forcing_source.h"
#include "neuralom/model/device_queue.h"
#include "neuralom/model/stage_pipeline.h"

namespace neuralom {

/// The initial conditions being rolled out together.
struct RolloutBatch {
  std::vector<int64_t> ics;    ///< day indices
  std::vector<int64_t> slots;  ///< positions of these ICs in the run's IC list
};

/// Receives every lead of every batch. Tensors are only valid during the call.
class RolloutSink {
 public:
  virtual ~RolloutSink() = default;
  virtual void begin_batch(const RolloutBatch& /*batch*/) {}
  /// `truth`, `pred`: normalised float32 `[B, C, H, W]` on the device; lead 0 is the initial state
  /// (pred is truth). `initial`: the batch's lead-0 state (for persistence baselines).
  virtual void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
                       const at::Tensor& initial) = 0;
  virtual void end_batch(const RolloutBatch& /*batch*/) {}
};

struct RolloutOptions {
  std::vector<int64_t> ics;
  int64_t prediction_length = 61;  ///< frames per IC, including the initial state (≥ 2)
  int64_t batch = 1;
  int64_t prefetch_steps = 2;      ///< days read ahead per IC
  bool warn_on_nonfinite = false;  ///< log instead of failing on NaN/Inf in a prediction
  /// Called after each day-step (and before the first) with the batch and the lead just computed;
  /// may throw to stop the run there (engine/runner: SIGINT/SIGTERM).
  std::function<void(const RolloutBatch& batch, int64_t lead)> between_steps;
};

struct RolloutStats {
  double total_seconds = 0.0;
  double model_seconds = 0.0;     ///< stage pipeline (and atmosphere model) time
  double forcing_seconds = 0.0;   ///< atmosphere model time, part of model_seconds
  double io_wait_seconds = 0.0;   ///< waiting for input days that were not ready
  double sink_seconds = 0.0;      ///< metrics, field writing
  int64_t day_steps = 0;          ///< batched pipeline evaluations
  int64_t ic_days = 0;            ///< simulated days summed over ICs
  /// Each day-step's model time, in order (device time on a GPU). This process's only: not
  /// journaled, not summed over batch records (benchmarks read it to leave out warm-up steps).
  std::vector<double> step_seconds;
};

class Rollout {
 public:
  /// `days`: normalised ocean-file days (input channels); `ocean_channels`: positions of the ocean
  /// state channels within them; `channel_names`: for messages.
  Rollout(const StagePipeline& pipeline, ForcingSource& forcing, DayCache& days, std::vector<int64_t> ocean_channels,
          std::vector<std::string> channel_names, RolloutOptions options);

  void add_sink(RolloutSink* sink) { sinks_.push_back(sink); }

  /// Runs every batch. Must be called under c10::InferenceMode. Rethrows input, model and
  /// numerical errors.
  RolloutStats run();

  /// Runs one batch: slots `slots` of the options' IC list (engine/ic_partition.h). Must be called
  /// under c10::InferenceMode. Returns its timings; rethrows as run() does.
  RolloutStats run_batch(const RolloutBatch& batch);

  /// The batch of slots [begin, end) of `ics`.
  static RolloutBatch batch_of(const std::vector<int64_t>& ics, int64_t begin, int64_t end);

 private:
  at::Tensor upload_days(const std::vector<int64_t>& days);
  at::Tensor ocean_part(const at::Tensor& z) const;
  void run_batch(const RolloutBatch& batch, RolloutStats& stats);

  const StagePipeline& pipeline_;
  ForcingSource& forcing_;
  DayCache& days_;
  std::vector<int64_t> ocean_channels_;
  std::vector<std::string> channel_names_;
  RolloutOptions options_;
  std::vector<RolloutSink*> sinks_;
  c10::Device device_;
  InputUploader uploader_;  ///< days to the device (CUDA: on a copy stream)
  bool ocean_contiguous_ = true;
  at::Tensor ocean_index_;
};

}  // namespace neuralom
