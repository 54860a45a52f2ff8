// The progressive residual correction: one ocean day-step through the chain of stage models.
//
//   y = M ⊙ S1(x);   then for each further stage k:   y = M ⊙ (Sk(y) + y)
//
// where M is the per-channel ocean mask (land set to 0, in normalised space). With the reference's
// two stages this is y = M ⊙ (S2(M ⊙ S1(x)) + M ⊙ S1(x)).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/model/model.h"

namespace neuralom {

class StagePipeline {
 public:
  /// `stages`: stage 1 first, at least one. `ocean_mask`: bool `[C_out, H, W]` (true = ocean).
  /// Checks that the stages fit together (stage k ≥ 2 maps C_out → C_out on the same grid) and
  /// that the mask fits; moves the mask to the stages' device. Throws ModelError / InputError.
  StagePipeline(std::vector<Model> stages, const at::Tensor& ocean_mask);

  /// One day-step: `x` float32 `[B, C_in, H, W]` on the device → masked `[B, C_out, H, W]`.
  at::Tensor step(const at::Tensor& x) const;

  const std::vector<Model>& stages() const { return stages_; }
  const Model& first() const { return stages_.front(); }
  int64_t ocean_channels() const { return stages_.front().metadata().out_channels; }
  /// Forcing channels per day in stage 1's input: (C_in − C_out) / 2.
  int64_t forcing_channels() const;
  int64_t height() const { return stages_.front().metadata().height; }
  int64_t width() const { return stages_.front().metadata().width; }
  /// Land points `[1, C_out, H, W]` bool on the device.
  const at::Tensor& land() const { return land_; }

  /// Measure each stage's time (synchronising the device after each; for benchmarks).
  void set_stage_timing(bool enabled);
  /// Seconds spent in each stage so far (zeros unless timing is on).
  const std::vector<double>& stage_seconds() const { return stage_seconds_; }

 private:
  at::Tensor run_stage(std::size_t k, const at::Tensor& x) const;

  std::vector<Model> stages_;
  at::Tensor land_;
  bool time_stages_ = false;
  mutable std::vector<double> stage_seconds_;
};

}  // namespace neuralom
