// The day-step captured in a CUDA graph and replayed (StagePipeline::enable_cuda_graphs). Compiled
// only in a CUDA build (NEURALOM_WITH_CUDA); nothing outside src/model/ includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

namespace neuralom::detail {

class CudaGraphStep {
 public:
  using Step = std::function<at::Tensor(const at::Tensor&)>;

  /// `eager`: the step, run eagerly for the first `warmup` calls (TorchScript's profiling runs,
  /// cuBLAS workspaces and the caching allocator settle), then captured once for the input shape
  /// of those calls (the run's batch size). Inputs of another shape (a smaller last batch) run
  /// eagerly.
  CudaGraphStep(Step eager, int64_t warmup);
  ~CudaGraphStep();
  CudaGraphStep(const CudaGraphStep&) = delete;
  CudaGraphStep& operator=(const CudaGraphStep&) = delete;

  /// `x` float32 `[B, C_in, H, W]` on the CUDA device → the step's output (a fresh tensor; the
  /// graph's own output buffer is overwritten by the next replay). Throws ModelError if the
  /// capture fails (an operation in the step that a graph cannot hold, e.g. a host read).
  at::Tensor run(const at::Tensor& x);

  /// Whether a graph has been captured (and later calls of its shape replay it).
  bool captured() const { return captured_ != nullptr; }

 private:
  struct Captured;
  void capture(const at::Tensor& x);

  Step eager_;
  int64_t warmup_;
  int64_t calls_ = 0;
  std::vector<int64_t> shape_;
  std::unique_ptr<Captured> captured_;
};

}  // namespace neuralom::detail
