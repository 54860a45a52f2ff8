#include "model/detail/cuda_graph.h"

#include <exception>
#include <string>

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/torch_compat.h"

namespace neuralom::detail {

struct CudaGraphStep::Captured {
  at::cuda::CUDAGraph graph;
  at::Tensor input;   ///< the graph reads its input here: each replay copies x into it first
  at::Tensor output;  ///< and writes its output here
};

CudaGraphStep::CudaGraphStep(Step eager, int64_t warmup) : eager_(std::move(eager)), warmup_(warmup) {}

CudaGraphStep::~CudaGraphStep() = default;

void CudaGraphStep::capture(const at::Tensor& x) {
  auto c = std::make_unique<Captured>();
  const c10::DeviceIndex index = x.device().index();
  const c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(index);
  c->input = x.clone();
  // A graph is captured on a side stream (never the legacy default stream), after the compute
  // stream's work so far; the compute stream then waits for the capture's own work.
  const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, index);
  at::cuda::CUDAEvent ready;
  ready.record(compute);
  ready.block(side);
  {
    c10::cuda::CUDAStreamGuard guard(side);
    try {
#if NEURALOM_TORCH_AT_LEAST(2, 1)
      // Thread-local: the day reader's thread may allocate pinned memory meanwhile.
      c->graph.capture_begin(/*pool=*/{0, 0}, cudaStreamCaptureModeThreadLocal);
#else
      c->graph.capture_begin();
#endif
      c->output = eager_(c->input);
      c->graph.capture_end();
    } catch (const std::exception& e) {
      const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
      throw ModelError(std::string("capturing the day-step in a CUDA graph failed (run without --cuda-graphs): ") +
                       (c10_error != nullptr ? c10_error->what_without_backtrace() : e.what()));
    }
  }
  at::cuda::CUDAEvent done;
  done.record(side);
  done.block(compute);
  captured_ = std::move(c);
}

at::Tensor CudaGraphStep::run(const at::Tensor& x) {
  const std::vector<int64_t> shape = x.sizes().vec();
  if (shape_.empty()) shape_ = shape;
  if (shape != shape_) return eager_(x);
  if (!captured_) {
    if (++calls_ <= warmup_) return eager_(x);
    capture(x);
  }
  captured_->input.copy_(x);
  captured_->graph.replay();
  return captured_->output.clone();
}

}  // namespace neuralom::detail
