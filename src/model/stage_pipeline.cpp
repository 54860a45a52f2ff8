#include "neuralom/model/stage_pipeline.h"

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"

#ifdef NEURALOM_WITH_CUDA
#include "model/detail/cuda_graph.h"
#else
namespace neuralom::detail {
class CudaGraphStep {};  // never created without CUDA; complete for unique_ptr's destructor
}  // namespace neuralom::detail
#endif

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

StagePipeline::~StagePipeline() = default;

void StagePipeline::set_stage_timing(bool enabled) { time_stages_ = enabled && !graph_; }

void StagePipeline::collect_timings(bool wait) const {
  while (!pending_timings_.empty() && (wait || pending_timings_.front().end.reached())) {
    const StageTiming& t = pending_timings_.front();
    stage_seconds_[t.stage] += t.end.seconds_since(t.begin);
    pending_timings_.pop_front();
  }
}

const std::vector<double>& StagePipeline::stage_seconds() const {
  collect_timings(/*wait=*/true);
  return stage_seconds_;
}

at::Tensor StagePipeline::run_stage(std::size_t k, const at::Tensor& x) const {
  if (!time_stages_) return stages_[k].forward(x);
  // Markers around the stage: the host clock on the CPU, where forward returns when done; CUDA
  // events on a GPU, read once the device has passed them, so the host never waits here.
  const c10::Device device = stages_[k].device();
  DeviceMarker begin = DeviceMarker::record(device);
  at::Tensor y = stages_[k].forward(x);
  pending_timings_.push_back({k, std::move(begin), DeviceMarker::record(device)});
  collect_timings(/*wait=*/false);
  return y;
}

void StagePipeline::enable_cuda_graphs(int64_t warmup_steps) {
  const c10::Device device = stages_.front().device();
  if (!device.is_cuda()) {
    throw ConfigError("--cuda-graphs needs a CUDA device, but the models run on " + device.str());
  }
#ifdef NEURALOM_WITH_CUDA
  time_stages_ = false;
  graph_ = std::make_unique<detail::CudaGraphStep>([this](const at::Tensor& x) { return step_eager(x); },
                                                   warmup_steps);
#else
  (void)warmup_steps;
  throw ConfigError("--cuda-graphs: this build has no CUDA support");
#endif
}

bool StagePipeline::cuda_graph_captured() const {
#ifdef NEURALOM_WITH_CUDA
  return graph_ && graph_->captured();
#else
  return false;
#endif
}

int64_t StagePipeline::forcing_channels() const {
  const ModelMetadata& s1 = stages_.front().metadata();
  return (s1.in_channels - s1.out_channels) / 2;
}

at::Tensor StagePipeline::step(const at::Tensor& x) const {
#ifdef NEURALOM_WITH_CUDA
  if (graph_) return graph_->run(x);
#endif
  return step_eager(x);
}

at::Tensor StagePipeline::step_eager(const at::Tensor& x) const {
  at::Tensor y = run_stage(0, x).masked_fill_(land_, 0.0);
  for (std::size_t k = 1; k < stages_.size(); ++k) {
    at::Tensor correction = run_stage(k, y);
    y = correction.add_(y).masked_fill_(land_, 0.0);
  }
  return y;
}

}  // namespace neuralom
