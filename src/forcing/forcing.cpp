#include "neuralom/forcing/forcing.h"

#include <chrono>
#include <sstream>

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

bool is_contiguous_range(const std::vector<int64_t>& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] != v[0] + static_cast<int64_t>(i)) return false;
  }
  return !v.empty();
}

}  // namespace

FileForcing::FileForcing(std::vector<int64_t> channels, c10::Device device)
    : channels_(std::move(channels)),
      index_(at::tensor(channels_, at::kLong).to(device)),
      first_(channels_.empty() ? 0 : channels_.front()),
      contiguous_(is_contiguous_range(channels_)) {}

void FileForcing::begin(const std::vector<int64_t>& /*ics*/) {}

at::Tensor FileForcing::select(const at::Tensor& z) const {
  if (contiguous_) return z.narrow(1, first_, static_cast<int64_t>(channels_.size()));
  return z.index_select(1, index_);
}

std::pair<at::Tensor, at::Tensor> FileForcing::pair(int64_t /*step*/, const at::Tensor& z_prev,
                                                    const at::Tensor& z_next) {
  return {select(z_prev), select(z_next)};
}

AtmosphereForcing::AtmosphereForcing(Model model, std::shared_ptr<const DayReader> initial_states,
                                     int64_t ocean_height, int64_t ocean_width, int64_t substeps_per_day,
                                     std::vector<int64_t> forcing_channels)
    : model_(std::move(model)),
      initial_states_(std::move(initial_states)),
      height_(ocean_height),
      width_(ocean_width),
      substeps_(substeps_per_day > 0 ? substeps_per_day : model_.metadata().substeps_per_day),
      channels_(forcing_channels.empty() ? model_.metadata().forcing_channels : std::move(forcing_channels)) {
  const ModelMetadata& m = model_.metadata();
  if (m.model != "atmos") {
    throw ModelError(m.path + ": is a " + m.model + " model, expected an atmosphere model (--model atmos export)");
  }
  if (m.in_channels != m.out_channels) {
    throw ModelError(m.path + ": an atmosphere model must map its state to itself, but maps " +
                     std::to_string(m.in_channels) + " to " + std::to_string(m.out_channels) + " channels");
  }
  for (const auto c : channels_) {
    if (c < 0 || c >= m.out_channels) {
      throw ModelError(m.path + ": forcing channel " + std::to_string(c) + " is outside its " +
                       std::to_string(m.out_channels) + " channels");
    }
  }
  if (substeps_ <= 0) throw ModelError(m.path + ": substeps per day must be positive");
  channel_index_ = at::tensor(channels_, at::kLong).to(model_.device());
}

at::Tensor AtmosphereForcing::resample(const at::Tensor& state) const {
  const at::Tensor f = state.index_select(1, channel_index_);
  return at::upsample_bilinear2d(f, {height_, width_}, /*align_corners=*/false);
}

void AtmosphereForcing::begin(const std::vector<int64_t>& ics) {
  std::vector<at::Tensor> states;
  states.reserve(ics.size());
  for (const auto ic : ics) states.push_back(initial_states_->read(ic));
  state_ = at::stack(states).to(model_.device());
  previous_ = resample(state_);
  step_ = 0;
}

std::pair<at::Tensor, at::Tensor> AtmosphereForcing::pair(int64_t step, const at::Tensor& /*z_prev*/,
                                                          const at::Tensor& /*z_next*/) {
  if (step != step_ + 1) {
    throw std::logic_error("AtmosphereForcing: steps must be requested in order");
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < substeps_; ++s) {
    state_ = model_.forward(state_);
    std::ostringstream what;
    what << "atmosphere model output (ocean step " << step << ", sub-step " << s + 1 << ")";
    check_finite(state_, what.str(), {});
  }
  at::Tensor next = resample(state_);
  std::pair<at::Tensor, at::Tensor> result{previous_, next};
  previous_ = next;
  step_ = step;
  compute_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

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

}  // namespace neuralom
