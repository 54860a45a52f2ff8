#include "neuralom/model/torch_compat.h"

#include <exception>

#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>
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

void log_warning(const std::string& message) {
  // Notices about operators of the exported models themselves, which the user cannot act on.
  if (message.find("is in beta and the API may change") != std::string::npos) {
    spdlog::debug("LibTorch: {}", message);
    return;
  }
  spdlog::warn("LibTorch: {}", message);
}

class LogWarningHandler : public c10::WarningHandler {
 public:
#if NEURALOM_TORCH_AT_LEAST(2, 0)
  void process(const c10::Warning& warning) override { log_warning(warning.msg()); }
#else
  void process(const c10::SourceLocation& /*where*/, const std::string& message, const bool /*verbatim*/) override {
    log_warning(message);
  }
#endif
};

}  // namespace

std::string libtorch_version() { return TORCH_VERSION; }

void route_warnings_to_log() {
  static LogWarningHandler handler;  // lives as long as the process
#if NEURALOM_TORCH_AT_LEAST(2, 0)
  c10::WarningUtils::set_warning_handler(&handler);
#else
  c10::Warning::set_warning_handler(&handler);
#endif
}

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
