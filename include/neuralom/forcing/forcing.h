// Where the ocean's atmospheric forcing comes from.
//
// Stage 1's input is [ocean state(t), F(t), F(t+1)]. In simulation mode F comes from the forcing
// channels of the (climatology-subtracted, normalised) ocean data file; in forecast mode from an AI
// atmosphere model rolled forward on the device, its forcing channels bilinearly resampled to the
// ocean grid.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "neuralom/data/day_reader.h"
#include "neuralom/model/model.h"

namespace neuralom {

class ForcingSource {
 public:
  virtual ~ForcingSource() = default;

  /// Starts a batch of initial conditions (day indices into the ocean data).
  virtual void begin(const std::vector<int64_t>& ics) = 0;

  /// The forcing pair (F(t), F(t+1)) of forecast step `step` ≥ 1, each float32 `[B, F, H, W]` on
  /// the device. `z_prev`, `z_next`: the normalised ocean-file days ic+step−1 and ic+step
  /// `[B, n_in, H, W]` on the device (used by file forcing only).
  virtual std::pair<at::Tensor, at::Tensor> pair(int64_t step, const at::Tensor& z_prev, const at::Tensor& z_next) = 0;

  /// Seconds spent computing forcing (atmosphere model), for reports.
  virtual double compute_seconds() const { return 0.0; }
};

/// Forcing read from the ocean data: channels `channels` of the normalised input days.
class FileForcing : public ForcingSource {
 public:
  /// `channels`: positions of the forcing channels within the input days' channel axis.
  FileForcing(std::vector<int64_t> channels, c10::Device device);
  void begin(const std::vector<int64_t>& ics) override;
  std::pair<at::Tensor, at::Tensor> pair(int64_t step, const at::Tensor& z_prev, const at::Tensor& z_next) override;

 private:
  at::Tensor select(const at::Tensor& z) const;
  std::vector<int64_t> channels_;
  at::Tensor index_;  // on the device
  int64_t first_ = 0;
  bool contiguous_ = true;
};

/// Forcing from an atmosphere model (the reference's OneForecast): its initial state is the
/// normalised daily snapshot of the IC's day; it advances `substeps_per_day` applications per
/// ocean day; channels `forcing_channels` of each day's state, resampled bilinearly
/// (align_corners = false, clamped edges, as PyTorch's interpolate) to the ocean grid, form F.
/// The rollout stays on the device.
class AtmosphereForcing : public ForcingSource {
 public:
  /// `substeps_per_day` / `forcing_channels` override the model's metadata when given (> 0 / non-empty).
  AtmosphereForcing(Model model, std::shared_ptr<const DayReader> initial_states, int64_t ocean_height,
                    int64_t ocean_width, int64_t substeps_per_day = 0, std::vector<int64_t> forcing_channels = {});
  void begin(const std::vector<int64_t>& ics) override;
  std::pair<at::Tensor, at::Tensor> pair(int64_t step, const at::Tensor& z_prev, const at::Tensor& z_next) override;
  double compute_seconds() const override { return compute_seconds_; }

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
  double compute_seconds_ = 0.0;
};

/// Throws NumericalError if `x` holds NaN or Inf, naming `what` (e.g. "stage output at IC 5,
/// lead day 12"), the first affected channel names and the counts. With `warn_only`, logs a
/// warning instead and returns false. Returns true if all values are finite.
bool check_finite(const at::Tensor& x, const std::string& what, const std::vector<std::string>& channel_names,
                  bool warn_only = false);

}  // namespace neuralom
