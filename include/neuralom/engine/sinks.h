// The consumers of a rollout: verification scores, the field writer and progress reporting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/stats.h"
#include "neuralom/engine/rollout.h"
#include "neuralom/verify/metrics.h"
#include "neuralom/verify/results_writer.h"

namespace neuralom {

/// Scores of the model and, optionally, of the persistence (initial state held) and climatology
/// (zero anomaly) baselines, in physical units.
class MetricsSink : public RolloutSink {
 public:
  /// `ocean_mask`: bool `[C, H, W]`; `stats`: of the C output channels. Tensors are moved to `device`.
  MetricsSink(const at::Tensor& ocean_mask, const NormStats& stats, std::vector<std::string> variables,
              int64_t max_lead, bool baselines, c10::Device device);
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  /// Model first, then the baselines if enabled.
  std::vector<MetricsTable> results() const;

 private:
  at::Tensor mean_;  // [C] float64, device
  at::Tensor std_;
  std::unique_ptr<MetricsAccumulator> model_;
  std::unique_ptr<MetricsAccumulator> persistence_;
  std::unique_ptr<MetricsAccumulator> climatology_;
};

/// De-normalises truth and prediction (float64 arithmetic, stored float32, as the reference) and
/// hands them to a ResultsWriter.
class FieldsSink : public RolloutSink {
 public:
  FieldsSink(ResultsWriter& writer, const NormStats& stats, c10::Device device);
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;

 private:
  ResultsWriter& writer_;
  at::Tensor mean_;
  at::Tensor std_;
};

/// Progress lines on stderr: ICs done, lead day, simulated days per second, ETA. At most one line
/// every `interval_seconds`, plus one per finished batch.
class ProgressSink : public RolloutSink {
 public:
  ProgressSink(int64_t total_ics, int64_t prediction_length, double interval_seconds = 5.0);
  void begin_batch(const RolloutBatch& batch) override;
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  void end_batch(const RolloutBatch& batch) override;

 private:
  void report(const RolloutBatch& batch, int64_t lead, bool batch_done);
  using Clock = std::chrono::steady_clock;
  int64_t total_ics_;
  int64_t steps_per_ic_;
  double interval_;
  int64_t ics_done_ = 0;
  int64_t ic_days_done_ = 0;
  Clock::time_point start_;
  Clock::time_point last_report_;
};

}  // namespace neuralom
