#include "neuralom/forcing/atmosphere_forcing.h"

#include <chrono>
#include <sstream>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/finite_check.h"

namespace neuralom {

AtmosphereForcing::AtmosphereForcing(Model model, std::shared_ptr<const DayReader> initial_states,
                                     int64_t ocean_height, int64_t ocean_width, int64_t substeps_per_day,
                                     std::vector<int64_t> forcing_channels, bool warn_on_nonfinite)
    : model_(std::move(model)),
      initial_states_(std::move(initial_states)),
      height_(ocean_height),
      width_(ocean_width),
      substeps_(substeps_per_day > 0 ? substeps_per_day : model_.metadata().substeps_per_day),
      channels_(forcing_channels.empty() ? model_.metadata().forcing_channels : std::move(forcing_channels)),
      finite_({}, warn_on_nonfinite) {
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
  const DayReaderSpec& spec = initial_states_->spec();
  for (const auto ic : ics) {
    states.push_back(initial_states_->read(ic));
    // Read on the host anyway: an Inf of the file is reported as the input it is, not later as
    // the atmosphere model's output.
    std::ostringstream what;
    what << "the atmosphere's initial state of IC " << ic << " (" << initial_states_->file().path() << ":/fields, time "
         << spec.time_offset + ic * spec.time_stride << ", its channels numbered as the file's)";
    finite_.watch(states.back().unsqueeze(0), what.str());  // a host tensor: checked at once
  }
  at::Tensor host = at::stack(states);
  // Pinned, so that the copy does not make the host wait for the GPU (once per batch).
  if (model_.device().is_cuda()) host = host.pin_memory();
  state_ = host.to(model_.device(), /*non_blocking=*/true);
  previous_ = resample(state_);
  step_ = 0;
}

std::pair<at::Tensor, at::Tensor> AtmosphereForcing::pair(int64_t step, const at::Tensor& /*z_prev*/,
                                                          const at::Tensor& /*z_next*/) {
  if (step != step_ + 1) {
    throw std::logic_error("AtmosphereForcing: steps must be requested in order");
  }
  DeviceMarker begin = DeviceMarker::record(model_.device());
  for (int64_t s = 0; s < substeps_; ++s) {
    state_ = model_.forward(state_);
    std::ostringstream what;
    what << "atmosphere model output (ocean step " << step << ", sub-step " << s + 1 << ")";
    finite_.watch(state_, what.str());  // CPU: checked here; CUDA: read when it has arrived
  }
  finite_.poll();
  at::Tensor next = resample(state_);
  std::pair<at::Tensor, at::Tensor> result{previous_, next};
  previous_ = next;
  step_ = step;
  timings_.emplace_back(std::move(begin), DeviceMarker::record(model_.device()));
  (void)compute_seconds();  // collects the timings that have arrived
  return result;
}

void AtmosphereForcing::finish() {
  finite_.drain();
  for (const auto& [begin, end] : timings_) compute_seconds_ += end.seconds_since(begin);
  timings_.clear();
}

double AtmosphereForcing::compute_seconds() const {
  // What has arrived; the rest is added by finish().
  while (!timings_.empty() && timings_.front().second.reached()) {
    compute_seconds_ += timings_.front().second.seconds_since(timings_.front().first);
    timings_.pop_front();
  }
  return compute_seconds_;
}

}  // namespace neuralom
