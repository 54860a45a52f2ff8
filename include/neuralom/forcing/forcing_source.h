// Where the ocean's atmospheric forcing comes from: the interface the rollout asks for it.
//
// Stage 1's input is [ocean state(t), F(t), F(t+1)]. In simulation mode F comes from the forcing
// channels of the (climatology-subtracted, normalised) ocean data file (file_forcing.h); in
// forecast mode from an AI atmosphere model rolled forward on the device, its forcing channels
// bilinearly resampled to the ocean grid (atmosphere_forcing.h). A new forcing source implements
// this interface and is chosen in engine/runner.cpp.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

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

  /// Ends a batch: waits for and reports checks still pending on the device (NumericalError).
  /// The rollout calls it before the batch's results are kept.
  virtual void finish() {}

  /// Seconds spent computing forcing (atmosphere model), for reports; on a GPU complete only
  /// after finish().
  virtual double compute_seconds() const { return 0.0; }
};

}  // namespace neuralom
