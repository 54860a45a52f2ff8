// Forecast mode's forcing: an AI atmosphere model (the reference's OneForecast) rolled forward
// alongside the ocean, on the device.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/day_reader.h"
#include "neuralom/forcing/forcing_source.h"
#include "neuralom/model/device_queue.h"
#include "neuralom/model/finite_check.h"
#include "neuralom/model/model.h"

namespace neuralom {

/// Its initial state is the normalised daily snapshot of the IC's day; it advances
/// `substeps_per_day` applications per ocean day; channels `forcing_channels` of each day's state,
/// resampled bilinearly (align_corners = false, clamped edges, as PyTorch's interpolate) to the
/// ocean grid, form F. The rollout stays on the device.
class AtmosphereForcing : public ForcingSource {
 public:
  /// `substeps_per_day` / `forcing_channels` override the model's metadata when given (> 0 / non-empty).
  /// `warn_on_nonfinite` (--on-nonfinite warn): NaN or Inf in the atmosphere's states is logged
  /// instead of stopping the run. Throws ModelError if the model is not an atmosphere model
  /// mapping its state onto itself, or the forcing channels or sub-steps do not fit it.
  AtmosphereForcing(Model model, std::shared_ptr<const DayReader> initial_states, int64_t ocean_height,
                    int64_t ocean_width, int64_t substeps_per_day = 0, std::vector<int64_t> forcing_channels = {},
                    bool warn_on_nonfinite = false);
  /// Reads the ICs' initial states. An Inf in one (the data file's; NaN is 0 once normalised)
  /// throws NumericalError naming the file, the time index and the channels, unless warn_on_nonfinite.
  void begin(const std::vector<int64_t>& ics) override;
  /// Steps must be requested in order (1, 2, ...). Throws NumericalError if the atmosphere model
  /// produces NaN or Inf (on a GPU possibly only at a later step or at finish(), as the check is
  /// read asynchronously), unless warn_on_nonfinite. Never waits for the GPU.
  std::pair<at::Tensor, at::Tensor> pair(int64_t step, const at::Tensor& z_prev, const at::Tensor& z_next) override;
  void finish() override;
  double compute_seconds() const override;

  int64_t substeps_per_day() const { return substeps_; }
  const std::vector<int64_t>& forcing_channels() const { return channels_; }
  const Model& model() const { return model_; }

 private:
  at::Tensor resample(const at::Tensor& state) const;
  Model model_;
  std::shared_ptr<const DayReader> initial_states_;
  int64_t height_;
  int64_t width_;
  int64_t substeps_;
  std::vector<int64_t> channels_;
  at::Tensor channel_index_;  // on the device
  at::Tensor state_;          // [B, C_atm, Ha, Wa]
  at::Tensor previous_;       // forcing of the current day, [B, F, H, W]
  int64_t step_ = 0;
  FiniteMonitor finite_;
  // Device markers around each day's sub-steps, summed when reached (CPU: the host clock).
  mutable std::deque<std::pair<DeviceMarker, DeviceMarker>> timings_;
  mutable double compute_seconds_ = 0.0;
};

}  // namespace neuralom
