// The consumers of a rollout: verification scores, the field writer and progress reporting.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/day_cache.h"
#include "neuralom/data/stats.h"
#include "neuralom/engine/rollout.h"
#include "neuralom/verify/extremes.h"
#include "neuralom/verify/fields_writer.h"
#include "neuralom/verify/metrics.h"

namespace neuralom {

/// The scored systems, in this order: the model, then with baselines persistence (the initial
/// state held) and climatology (zero anomaly).
std::vector<std::string> scored_systems(bool baselines);

/// The model and, optionally, the persistence and climatology baselines, each scored by an
/// accumulator of one kind (MetricsAccumulator, ExtremesAccumulator: the instantiations in
/// sinks.cpp).
template <typename Accumulator>
class ScoredSystems {
 public:
  using Make = std::function<std::unique_ptr<Accumulator>(const std::string& system)>;
  /// What the accumulator keeps per IC (IcMetrics, IcContingency).
  using PerIc = typename decltype(std::declval<Accumulator&>().take_batch())::value_type;

  ScoredSystems(bool baselines, const Make& make);
  /// `truth`, `pred` and the batch's `initial` state (computed only for the baselines) in the
  /// accumulators' units.
  void add(int64_t lead, const at::Tensor& truth, const at::Tensor& pred, const std::function<at::Tensor()>& initial);
  /// The current batch's per-IC scores, `[system][IC of the batch]`, systems as scored_systems().
  std::vector<std::vector<PerIc>> take_batch();

 private:
  std::unique_ptr<Accumulator> model_;
  std::unique_ptr<Accumulator> persistence_;
  std::unique_ptr<Accumulator> climatology_;
};

/// Scores of the model and, optionally, of the persistence (initial state held) and climatology
/// (zero anomaly) baselines, in physical units.
class MetricsSink : public RolloutSink {
 public:
  /// `ocean_mask`: bool `[C, H, W]`; `stats`: of the C output channels. Tensors are moved to `device`.
  MetricsSink(const at::Tensor& ocean_mask, const NormStats& stats, std::vector<std::string> variables,
              int64_t max_lead, bool baselines, c10::Device device);
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  /// The current batch's per-IC scores, `[system][IC of the batch]`.
  std::vector<std::vector<IcMetrics>> take_batch() { return systems_.take_batch(); }

 private:
  at::Tensor mean_;  // [C] float64, device
  at::Tensor std_;
  ScoredSystems<MetricsAccumulator> systems_;
};

/// Extreme-event contingency counts of the model and, optionally, of the persistence and
/// climatology baselines (verify/extremes.h), from the de-normalised anomalies rounded to float32.
class ExtremesSink : public RolloutSink {
 public:
  /// `spec` with its thresholds; `ocean_mask`: bool `[C, H, W]`; `stats`: of the C output channels.
  ExtremesSink(const ExtremesSpec& spec, const at::Tensor& ocean_mask, const NormStats& stats, int64_t max_lead,
               bool baselines, c10::Device device);
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  /// The current batch's per-IC counts, `[system][IC of the batch]`.
  std::vector<std::vector<IcContingency>> take_batch() { return systems_.take_batch(); }

 private:
  at::Tensor mean_;
  at::Tensor std_;
  ScoredSystems<ExtremesAccumulator> systems_;
};

/// De-normalises truth and prediction (float64 arithmetic, stored float32, as the reference) and
/// hands them to a FieldsWriter opened for each batch: the batch's fields part, whose IC axis is
/// the batch's ICs, committed when the batch ends (engine/merge.h concatenates the parts). For a
/// writer that wants absolute values, the climatology of each frame's valid day (IC + lead) is
/// added to the saved channels: float32(anomaly + climatology), summed in float64.
class FieldsSink : public RolloutSink {
 public:
  using OpenPart = std::function<std::unique_ptr<FieldsWriter>(const RolloutBatch& batch)>;

  /// `open_part`: creates the writer of a batch's part. `climatology`: days of the climatology of
  /// the saved channels, `[saved, H, W]` (data/fields.h Climatology::read_channels); required when
  /// the writers want absolute values.
  FieldsSink(OpenPart open_part, const NormStats& stats, c10::Device device, DayCache* climatology = nullptr);
  void begin_batch(const RolloutBatch& batch) override;
  /// On the CPU writes the lead's frames at once. On CUDA copies them into pinned host memory
  /// without waiting and writes them once the copy has arrived (a later call, or end_batch), so
  /// that saving fields does not stall the GPU every saved day.
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  /// Writes what is still in flight, then commits the batch's part (renamed into place).
  void end_batch(const RolloutBatch& batch) override;

 private:
  struct InFlight {
    RolloutBatch batch;
    int64_t lead = 0;
    at::Tensor truth, pred;  ///< float32 [B, C, H, W] in pinned host memory, being filled
    DeviceMarker copied;
  };
  /// Writes one lead's frames (float32 [B, C, H, W], CPU), adding the climatology if wanted.
  void write_frames(const RolloutBatch& batch, int64_t lead, at::Tensor truth, at::Tensor pred);
  /// Writes the in-flight frames whose copies have arrived, in order (all, waiting, if `wait`).
  void write_arrived(bool wait);

  /// Adds the climatology of `batch`'s valid days at `lead` to the saved channels of `frames`
  /// (float32 `[B, C, H, W]`, CPU), in place.
  void add_climatology(const RolloutBatch& batch, int64_t lead, at::Tensor& frames);

  OpenPart open_part_;
  std::unique_ptr<FieldsWriter> writer_;
  at::Tensor mean_;
  at::Tensor std_;
  DayCache* climatology_;
  at::Tensor saved_;  // [saved] long, CPU
  std::deque<InFlight> in_flight_;
};

/// Progress lines on stderr: ICs done, lead day, simulated days per second, ETA. At most one line
/// every `interval_seconds`, plus one per finished round of batches. In a job of several ranks, the
/// counts are the whole job's: exact after each round (finished()), and in between estimated as
/// this rank's progress times the number of ranks.
class ProgressSink : public RolloutSink {
 public:
  /// `total_ics`: the ICs this job runs (all ranks); `ranks`: the processes running them.
  ProgressSink(int64_t total_ics, int64_t prediction_length, int ranks = 1, double interval_seconds = 5.0);
  void consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
               const at::Tensor& initial) override;
  /// After a round of batches: `ics_done` ICs of the job are finished; `last` describes the ICs.
  void finished(int64_t ics_done, const std::string& last);

 private:
  void report(const std::string& ics, int64_t lead, bool batch_done);
  using Clock = std::chrono::steady_clock;
  int64_t total_ics_;
  int64_t steps_per_ic_;
  int ranks_;
  double interval_;
  int64_t ics_done_ = 0;         // the job's, after the last round
  int64_t local_days_ = 0;       // this rank's IC-days since the last round
  Clock::time_point start_;
  Clock::time_point last_report_;
};

}  // namespace neuralom
