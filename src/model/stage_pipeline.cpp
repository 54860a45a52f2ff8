#include "neuralom/model/stage_pipeline.h"

#include <chrono>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"

namespace neuralom {

StagePipeline::StagePipeline(std::vector<Model> stages, const at::Tensor& ocean_mask)
    : stages_(std::move(stages)) {
  if (stages_.empty()) throw ModelError("no stage models given (expected --stages stage1.pt[,stage2.pt...])");
  const ModelMetadata& s1 = stages_.front().metadata();
  if (s1.model == "atmos") {
    throw ModelError(s1.path + ": is an atmosphere model, but the first stage must be an ocean stage-1 model");
  }
  if ((s1.in_channels - s1.out_channels) <= 0 || (s1.in_channels - s1.out_channels) % 2 != 0) {
    throw ModelError(s1.path + ": stage 1 maps " + std::to_string(s1.in_channels) + " to " +
                     std::to_string(s1.out_channels) +
                     " channels; expected ocean + 2 x forcing inputs (e.g. 101 = 93 + 4 + 4)");
  }
  for (std::size_t k = 1; k < stages_.size(); ++k) {
    const ModelMetadata& m = stages_[k].metadata();
    if (m.in_channels != s1.out_channels || m.out_channels != s1.out_channels) {
      throw ModelError(m.path + ": stage " + std::to_string(k + 1) + " maps " + std::to_string(m.in_channels) +
                       " to " + std::to_string(m.out_channels) + " channels, expected " +
                       std::to_string(s1.out_channels) + " to " + std::to_string(s1.out_channels) +
                       " (a residual stage on stage 1's output)");
    }
    if (m.height != s1.height || m.width != s1.width) {
      throw ModelError(m.path + ": grid " + std::to_string(m.height) + "x" + std::to_string(m.width) +
                       " differs from stage 1's " + std::to_string(s1.height) + "x" + std::to_string(s1.width));
    }
    if (stages_[k].device() != stages_.front().device()) {
      throw ModelError(m.path + ": loaded on a different device than stage 1");
    }
  }
  if (ocean_mask.dim() != 3 || ocean_mask.size(0) != s1.out_channels || ocean_mask.size(1) != s1.height ||
      ocean_mask.size(2) != s1.width) {
    throw InputError("land mask of shape " + std::to_string(ocean_mask.dim()) +
                     "-d does not fit the models' [" + std::to_string(s1.out_channels) + ", " +
                     std::to_string(s1.height) + ", " + std::to_string(s1.width) + "]");
  }
  land_ = ocean_mask.logical_not().unsqueeze(0).to(stages_.front().device());
  stage_seconds_.assign(stages_.size(), 0.0);
}

void StagePipeline::set_stage_timing(bool enabled) { time_stages_ = enabled; }

at::Tensor StagePipeline::run_stage(std::size_t k, const at::Tensor& x) const {
  if (!time_stages_) return stages_[k].forward(x);
  // Per-stage timing needs the device to finish each stage; only benchmarks turn it on.
  const auto t0 = std::chrono::steady_clock::now();
  at::Tensor y = stages_[k].forward(x);
  if (y.is_cuda()) (void)y.sum().item<float>();
  stage_seconds_[k] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return y;
}

int64_t StagePipeline::forcing_channels() const {
  const ModelMetadata& s1 = stages_.front().metadata();
  return (s1.in_channels - s1.out_channels) / 2;
}

at::Tensor StagePipeline::step(const at::Tensor& x) const {
  at::Tensor y = run_stage(0, x).masked_fill_(land_, 0.0);
  for (std::size_t k = 1; k < stages_.size(); ++k) {
    at::Tensor correction = run_stage(k, y);
    y = correction.add_(y).masked_fill_(land_, 0.0);
  }
  return y;
}

}  // namespace neuralom
