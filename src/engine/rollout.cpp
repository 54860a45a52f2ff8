#include "neuralom/engine/rollout.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <sstream>
#include <utility>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/finite_check.h"

namespace neuralom {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

Rollout::Rollout(const StagePipeline& pipeline, ForcingSource& forcing, DayCache& days,
                 std::vector<int64_t> ocean_channels, std::vector<std::string> channel_names, RolloutOptions options)
    : pipeline_(pipeline),
      forcing_(forcing),
      days_(days),
      ocean_channels_(std::move(ocean_channels)),
      channel_names_(std::move(channel_names)),
      options_(std::move(options)),
      device_(pipeline.first().device()),
      uploader_(device_) {
  if (options_.prediction_length < 2) {
    throw ConfigError("prediction length " + std::to_string(options_.prediction_length) +
                      " is too short: it counts the initial state, so at least 2 (one forecast day) is needed");
  }
  if (options_.batch < 1) throw ConfigError("batch size must be at least 1");
  for (std::size_t i = 0; i < ocean_channels_.size(); ++i) {
    ocean_contiguous_ = ocean_contiguous_ && ocean_channels_[i] == ocean_channels_[0] + static_cast<int64_t>(i);
  }
  ocean_index_ = at::tensor(ocean_channels_, at::kLong).to(device_);
}

at::Tensor Rollout::upload_days(const std::vector<int64_t>& days) {
  std::vector<at::Tensor> host;
  host.reserve(days.size());
  for (const auto d : days) host.push_back(days_.get(d));
  if (host.size() == 1) return uploader_.upload(host.front().unsqueeze(0));
  at::Tensor stacked = at::empty({static_cast<int64_t>(host.size()), host[0].size(0), host[0].size(1), host[0].size(2)},
                                 host[0].options().pinned_memory(host[0].is_pinned()));
  for (std::size_t b = 0; b < host.size(); ++b) stacked[static_cast<int64_t>(b)].copy_(host[b]);
  return uploader_.upload(stacked);
}

at::Tensor Rollout::ocean_part(const at::Tensor& z) const {
  if (ocean_contiguous_) return z.narrow(1, ocean_channels_.front(), static_cast<int64_t>(ocean_channels_.size()));
  return z.index_select(1, ocean_index_);
}

void Rollout::run_batch(const RolloutBatch& batch, RolloutStats& stats) {
  const int64_t steps = options_.prediction_length - 1;
  auto days_at = [&batch](int64_t offset) {
    std::vector<int64_t> out;
    for (const auto ic : batch.ics) out.push_back(ic + offset);
    return out;
  };
  auto prefetch_from = [&](int64_t k) {
    for (int64_t a = k; a <= std::min(steps, k + options_.prefetch_steps - 1); ++a) {
      for (const auto d : days_at(a)) days_.prefetch(d);
    }
  };

  // Nothing in the day loop waits for a GPU: inputs are uploaded a day ahead on a copy stream,
  // the model time is taken with device markers (CUDA events) and the non-finite checks are read
  // when they have arrived; all of it is settled at the end of the batch (docs/gpu.md).
  FiniteMonitor finite(channel_names_, options_.warn_on_nonfinite);
  std::deque<std::pair<DeviceMarker, DeviceMarker>> model_timings;
  const double forcing_before = forcing_.compute_seconds();

  if (options_.between_steps) options_.between_steps(batch, 0);
  for (auto* s : sinks_) s->begin_batch(batch);
  prefetch_from(0);
  at::Tensor z_prev = upload_days(days_at(0));
  const at::Tensor initial = ocean_part(z_prev).contiguous();
  const auto t_sink0 = Clock::now();
  for (auto* s : sinks_) s->consume(batch, 0, initial, initial, initial);
  stats.sink_seconds += since(t_sink0);
  forcing_.begin(batch.ics);

  at::Tensor state = initial;
  at::Tensor z_next = upload_days(days_at(1));
  for (int64_t k = 1; k <= steps; ++k) {
    prefetch_from(k + 1);
    // The next day's input is copied while this day computes (on a CPU: the host tensor itself).
    const at::Tensor z_after = k < steps ? upload_days(days_at(k + 1)) : at::Tensor();

    DeviceMarker model_begin = DeviceMarker::record(device_);
    auto [f_prev, f_next] = forcing_.pair(k, z_prev, z_next);
    const at::Tensor x = at::cat({state, f_prev, f_next}, 1);
    at::Tensor y = pipeline_.step(x);
    model_timings.emplace_back(std::move(model_begin), DeviceMarker::record(device_));
    ++stats.day_steps;
    stats.ic_days += static_cast<int64_t>(batch.ics.size());

    std::ostringstream what;
    what << "prediction for lead day " << k << " of IC";
    what << (batch.ics.size() > 1 ? "s " : " ");
    for (std::size_t i = 0; i < batch.ics.size(); ++i) what << (i ? "," : "") << batch.ics[i];
    finite.watch(y, what.str());  // CPU: checked here (throws); CUDA: read when it has arrived
    finite.poll();

    const auto t_sink = Clock::now();
    const at::Tensor truth = ocean_part(z_next);
    for (auto* s : sinks_) s->consume(batch, k, truth, y, initial);
    stats.sink_seconds += since(t_sink);
    state = y;
    z_prev = z_next;
    z_next = z_after;
    if (options_.between_steps) options_.between_steps(batch, k);
  }
  // The batch's end (an IC boundary): every check and time is settled before anything is kept.
  finite.drain();
  forcing_.finish();
  for (const auto& [begin, end] : model_timings) {
    const double seconds = end.seconds_since(begin);
    stats.model_seconds += seconds;
    stats.step_seconds.push_back(seconds);
  }
  stats.forcing_seconds += forcing_.compute_seconds() - forcing_before;
  for (auto* s : sinks_) s->end_batch(batch);
}

RolloutBatch Rollout::batch_of(const std::vector<int64_t>& ics, int64_t begin, int64_t end) {
  RolloutBatch batch;
  for (int64_t i = begin; i < end; ++i) {
    batch.ics.push_back(ics[static_cast<std::size_t>(i)]);
    batch.slots.push_back(i);
  }
  return batch;
}

RolloutStats Rollout::run_batch(const RolloutBatch& batch) {
  RolloutStats stats;
  const auto t0 = Clock::now();
  const double wait0 = days_.wait_seconds();
  run_batch(batch, stats);
  stats.total_seconds = since(t0);
  stats.io_wait_seconds = days_.wait_seconds() - wait0;
  return stats;
}

RolloutStats Rollout::run() {
  RolloutStats stats;
  const auto t0 = Clock::now();
  const auto n = static_cast<int64_t>(options_.ics.size());
  for (int64_t start = 0; start < n; start += options_.batch) {
    run_batch(batch_of(options_.ics, start, std::min(n, start + options_.batch)), stats);
  }
  stats.total_seconds = since(t0);
  stats.io_wait_seconds = days_.wait_seconds();
  return stats;
}

}  // namespace neuralom
