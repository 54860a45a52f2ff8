#include "neuralom/model/torch_compat.h"

#include <exception>

#include <torch/csrc/jit/runtime/graph_executor.h>

#ifdef NEURALOM_WITH_CUDA
#include <ATen/detail/CUDAHooksInterface.h>
#include <cuda_runtime_api.h>
#endif

namespace neuralom::torch_compat {
namespace {

#ifdef NEURALOM_WITH_CUDA
// CUDA encodes versions as 1000 * major + 10 * minor (13000 = 13.0, 12080 = 12.8).
std::string cuda_version_string(long version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}
#endif

}  // namespace

std::string libtorch_version() { return TORCH_VERSION; }

void use_plain_graph_executor() {
  // Both 1.13 and 2.x: with optimisation off, the profiling executor runs the graph after only
  // the no-op pass pipeline and records no profiles.
  torch::jit::setGraphExecutorOptimize(false);
}

std::string cuda_runtime_version() {
#ifdef NEURALOM_WITH_CUDA
  try {
    // CUDART_VERSION of LibTorch's own build (libtorch_cuda); constant, no driver call.
    return cuda_version_string(at::detail::getCUDAHooks().versionCUDART());
  } catch (const std::exception&) {
    return cuda_headers_version();
  }
#else
  return "";
#endif
}

std::string cuda_headers_version() {
#ifdef NEURALOM_WITH_CUDA
  return cuda_version_string(CUDART_VERSION);
#else
  return "";
#endif
}

}  // namespace neuralom::torch_compat
