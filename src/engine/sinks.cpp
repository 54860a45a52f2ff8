#include "neuralom/engine/sinks.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/data/normaliser.h"

namespace neuralom {
namespace {

at::Tensor to_device(const std::vector<double>& v, c10::Device device) {
  return at::tensor(v, at::kDouble).to(device);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", static_cast<long>(s / 3600), static_cast<long>((s % 3600) / 60));
  } else if (s >= 60) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", static_cast<long>(s / 60), static_cast<long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lds", static_cast<long>(s));
  }
  return buf;
}

}  // namespace

std::vector<std::string> scored_systems(bool baselines) {
  if (!baselines) return {"model"};
  return {"model", "persistence", "climatology"};
}

template <typename Accumulator>
ScoredSystems<Accumulator>::ScoredSystems(bool baselines, const Make& make) : model_(make("model")) {
  if (baselines) {
    persistence_ = make("persistence");
    climatology_ = make("climatology");
  }
}

template <typename Accumulator>
void ScoredSystems<Accumulator>::add(int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
                                     const std::function<at::Tensor()>& initial) {
  model_->add(lead, pred, truth);
  if (persistence_) {
    persistence_->add(lead, initial(), truth);
    climatology_->add(lead, at::zeros_like(truth), truth);
  }
}

template <typename Accumulator>
std::vector<std::vector<typename ScoredSystems<Accumulator>::PerIc>> ScoredSystems<Accumulator>::take_batch() {
  std::vector<std::vector<PerIc>> out;
  out.push_back(model_->take_batch());
  if (persistence_) {
    out.push_back(persistence_->take_batch());
    out.push_back(climatology_->take_batch());
  }
  return out;
}

template class ScoredSystems<MetricsAccumulator>;
template class ScoredSystems<ExtremesAccumulator>;

namespace {

at::Tensor weights_of(const at::Tensor& ocean_mask, c10::Device device) {
  const int64_t h = ocean_mask.size(1);
  const at::Tensor lat_w = at::tensor(latitude_weights(h), at::kDouble).view({1, h, 1});
  return (ocean_mask.to(at::kDouble) * lat_w).to(device);
}

}  // namespace

MetricsSink::MetricsSink(const at::Tensor& ocean_mask, const NormStats& stats, std::vector<std::string> variables,
                         int64_t max_lead, bool baselines, c10::Device device)
    : mean_(to_device(stats.mean, device)),
      std_(to_device(stats.std, device)),
      systems_(baselines, [&, weights = weights_of(ocean_mask, device)](const std::string& system) {
        return std::make_unique<MetricsAccumulator>(system, variables, stats.std, max_lead, weights);
      }) {}

void MetricsSink::consume(const RolloutBatch& /*batch*/, int64_t lead, const at::Tensor& truth,
                          const at::Tensor& pred, const at::Tensor& initial) {
  if (lead == 0) return;  // the initial state is the truth: nothing to score
  systems_.add(lead, denormalise(truth, mean_, std_), denormalise(pred, mean_, std_),
               [&] { return denormalise(initial, mean_, std_); });
}

ExtremesSink::ExtremesSink(const ExtremesSpec& spec, const at::Tensor& ocean_mask, const NormStats& stats,
                           int64_t max_lead, bool baselines, c10::Device device)
    : mean_(to_device(stats.mean, device)),
      std_(to_device(stats.std, device)),
      systems_(baselines, [&](const std::string& system) {
        return std::make_unique<ExtremesAccumulator>(system, spec, max_lead, ocean_mask, device);
      }) {}

void ExtremesSink::consume(const RolloutBatch& /*batch*/, int64_t lead, const at::Tensor& truth,
                           const at::Tensor& pred, const at::Tensor& initial) {
  if (lead == 0) return;
  // Rounded to float32 as the fields files hold them, so that a check from those files agrees.
  auto physical = [&](const at::Tensor& x) { return denormalise(x, mean_, std_).to(at::kFloat); };
  systems_.add(lead, physical(truth), physical(pred), [&] { return physical(initial); });
}

FieldsSink::FieldsSink(OpenPart open_part, const NormStats& stats, c10::Device device, DayCache* climatology)
    : open_part_(std::move(open_part)),
      mean_(to_device(stats.mean, device)),
      std_(to_device(stats.std, device)),
      climatology_(climatology) {}

void FieldsSink::begin_batch(const RolloutBatch& batch) {
  in_flight_.clear();  // frames of a batch that failed
  writer_.reset();  // an earlier batch's part that was never committed goes first (same name)
  writer_ = open_part_(batch);
  if (writer_->wants_absolute_values() && climatology_ == nullptr) {
    throw std::logic_error("FieldsSink: a writer of absolute values needs the climatology");
  }
  saved_ = at::tensor(writer_->layout().channels, at::kLong);
}

void FieldsSink::end_batch(const RolloutBatch& /*batch*/) {
  write_arrived(/*wait=*/true);
  writer_->commit();
  writer_.reset();
}

void FieldsSink::add_climatology(const RolloutBatch& batch, int64_t lead, at::Tensor& frames) {
  // Announce the days of the next saved lead, so that they are read while the model computes.
  const auto& leads = writer_->layout().leads;
  const auto next = std::upper_bound(leads.begin(), leads.end(), lead);
  if (next != leads.end()) {
    for (const int64_t ic : batch.ics) climatology_->prefetch(ic + *next);
  }
  for (std::size_t b = 0; b < batch.ics.size(); ++b) {
    const at::Tensor clim = climatology_->get(batch.ics[b] + lead);
    at::Tensor frame = frames[static_cast<int64_t>(b)];
    const at::Tensor sum = frame.index_select(0, saved_).to(at::kDouble).add_(clim.to(at::kDouble));
    frame.index_copy_(0, saved_, sum.to(at::kFloat));
  }
}

void FieldsSink::consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& truth, const at::Tensor& pred,
                         const at::Tensor& /*initial*/) {
  if (!writer_->saves_lead(lead)) return;
  const at::Tensor t = denormalise(truth, mean_, std_).to(at::kFloat);
  const at::Tensor p = lead == 0 ? t : denormalise(pred, mean_, std_).to(at::kFloat);
  if (!t.is_cuda()) {
    write_frames(batch, lead, t.contiguous(), p.contiguous());
    return;
  }
  // Into pinned host memory on the compute stream, without waiting; written when it has arrived.
  // (The device tensors may be freed at once: the caching allocator reuses their memory only for
  // work queued after the copies on the same stream.)
  auto to_pinned = [](const at::Tensor& x) {
    at::Tensor host = at::empty(x.sizes(), x.options().device(c10::kCPU).pinned_memory(true));
    host.copy_(x, /*non_blocking=*/true);
    return host;
  };
  InFlight frames;
  frames.batch = batch;
  frames.lead = lead;
  frames.truth = to_pinned(t);
  frames.pred = lead == 0 ? frames.truth : to_pinned(p);
  frames.copied = DeviceMarker::record(t.device());
  in_flight_.push_back(std::move(frames));
  write_arrived(/*wait=*/false);
}

void FieldsSink::write_arrived(bool wait) {
  while (!in_flight_.empty() && (wait || in_flight_.front().copied.reached())) {
    InFlight frames = std::move(in_flight_.front());
    in_flight_.pop_front();
    frames.copied.wait();
    write_frames(frames.batch, frames.lead, std::move(frames.truth), std::move(frames.pred));
  }
}

void FieldsSink::write_frames(const RolloutBatch& batch, int64_t lead, at::Tensor t, at::Tensor p) {
  if (writer_->wants_absolute_values()) {
    add_climatology(batch, lead, t);
    if (lead != 0) add_climatology(batch, lead, p);  // at lead 0, p is t
  }
  // The part's IC axis is the batch's ICs.
  for (std::size_t b = 0; b < batch.slots.size(); ++b) {
    const auto i = static_cast<int64_t>(b);
    writer_->write(i, lead, t[i].data_ptr<float>(), p[i].data_ptr<float>());
  }
}

ProgressSink::ProgressSink(int64_t total_ics, int64_t prediction_length, int ranks, double interval_seconds)
    : total_ics_(total_ics),
      steps_per_ic_(prediction_length - 1),
      ranks_(ranks),
      interval_(interval_seconds),
      start_(Clock::now()),
      last_report_(Clock::now()) {}

void ProgressSink::consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& /*truth*/,
                           const at::Tensor& /*pred*/, const at::Tensor& /*initial*/) {
  if (lead == 0) return;
  local_days_ += static_cast<int64_t>(batch.ics.size());
  const double since_last = std::chrono::duration<double>(Clock::now() - last_report_).count();
  if (since_last < interval_) return;
  const std::string ics = batch.ics.size() == 1 ? std::to_string(batch.ics.front())
                                                 : std::to_string(batch.ics.front()) + "-" +
                                                       std::to_string(batch.ics.back());
  report(ics, lead, false);
}

void ProgressSink::finished(int64_t ics_done, const std::string& last) {
  ics_done_ = ics_done;
  local_days_ = 0;
  report(last, steps_per_ic_, true);
}

void ProgressSink::report(const std::string& ics, int64_t lead, bool batch_done) {
  last_report_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_report_ - start_).count();
  // The job's IC-days: exact at the last round, plus this rank's since then times the ranks.
  const auto days = static_cast<double>(ics_done_ * steps_per_ic_ + local_days_ * ranks_);
  const double rate = elapsed > 0 ? days / elapsed : 0.0;
  const double remaining = static_cast<double>(total_ics_ * steps_per_ic_) - days;
  const double eta = rate > 0 ? std::max(0.0, remaining) / rate : std::nan("");
  spdlog::info("{} IC {} ({}/{} ICs done) | day {}/{} | {:.2f} days/s | elapsed {} | ETA {}",
               batch_done ? "finished" : "running ", ics, ics_done_, total_ics_, lead, steps_per_ic_, rate,
               format_duration(elapsed), format_duration(eta));
}

}  // namespace neuralom
