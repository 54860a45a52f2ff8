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
std::vector<typename ScoredSystems<Accumulator>::Table> ScoredSystems<Accumulator>::results() const {
  std::vector<Table> out{model_->result()};
  if (persistence_) {
    out.push_back(persistence_->result());
    out.push_back(climatology_->result());
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

FieldsSink::FieldsSink(FieldsWriter& writer, const NormStats& stats, c10::Device device, DayCache* climatology)
    : writer_(writer),
      mean_(to_device(stats.mean, device)),
      std_(to_device(stats.std, device)),
      climatology_(climatology),
      saved_(at::tensor(writer.layout().channels, at::kLong)) {
  if (writer_.wants_absolute_values() && climatology_ == nullptr) {
    throw std::logic_error("FieldsSink: a writer of absolute values needs the climatology");
  }
}

void FieldsSink::add_climatology(const RolloutBatch& batch, int64_t lead, at::Tensor& frames) {
  // Announce the days of the next saved lead, so that they are read while the model computes.
  const auto& leads = writer_.layout().leads;
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
  if (!writer_.saves_lead(lead)) return;
  at::Tensor t = denormalise(truth, mean_, std_).to(at::kFloat).cpu().contiguous();
  at::Tensor p = lead == 0 ? t : denormalise(pred, mean_, std_).to(at::kFloat).cpu().contiguous();
  if (writer_.wants_absolute_values()) {
    add_climatology(batch, lead, t);
    if (lead != 0) add_climatology(batch, lead, p);
  }
  for (std::size_t b = 0; b < batch.slots.size(); ++b) {
    const auto i = static_cast<int64_t>(b);
    writer_.write(batch.slots[b], lead, t[i].data_ptr<float>(), p[i].data_ptr<float>());
  }
}

ProgressSink::ProgressSink(int64_t total_ics, int64_t prediction_length, double interval_seconds)
    : total_ics_(total_ics),
      steps_per_ic_(prediction_length - 1),
      interval_(interval_seconds),
      start_(Clock::now()),
      last_report_(Clock::now()) {}

void ProgressSink::begin_batch(const RolloutBatch& /*batch*/) {}

void ProgressSink::consume(const RolloutBatch& batch, int64_t lead, const at::Tensor& /*truth*/,
                           const at::Tensor& /*pred*/, const at::Tensor& /*initial*/) {
  if (lead == 0) return;
  ic_days_done_ += static_cast<int64_t>(batch.ics.size());
  const double since_last = std::chrono::duration<double>(Clock::now() - last_report_).count();
  if (since_last >= interval_) report(batch, lead, false);
}

void ProgressSink::end_batch(const RolloutBatch& batch) {
  ics_done_ += static_cast<int64_t>(batch.ics.size());
  report(batch, steps_per_ic_, true);
}

void ProgressSink::report(const RolloutBatch& batch, int64_t lead, bool batch_done) {
  last_report_ = Clock::now();
  const double elapsed = std::chrono::duration<double>(last_report_ - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(ic_days_done_) / elapsed : 0.0;
  const double remaining = static_cast<double>(total_ics_ * steps_per_ic_ - ic_days_done_);
  const double eta = rate > 0 ? remaining / rate : std::nan("");
  const std::string ics = batch.ics.size() == 1 ? std::to_string(batch.ics.front())
                                                 : std::to_string(batch.ics.front()) + "-" +
                                                       std::to_string(batch.ics.back());
  spdlog::info("{} IC {} ({}/{} ICs done) | day {}/{} | {:.2f} days/s | elapsed {} | ETA {}",
               batch_done ? "finished" : "running ", ics, ics_done_, total_ics_, lead, steps_per_ic_, rate,
               format_duration(elapsed), format_duration(eta));
}

}  // namespace neuralom
