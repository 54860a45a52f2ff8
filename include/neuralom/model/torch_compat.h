// Differences between the LibTorch versions neuralom builds against, in one place: Debian's 1.13
// and 2.x (pip, conda, pytorch.org downloads). Code elsewhere calls these instead of testing
// versions itself. Build-level differences live in cmake/NeuralomTorch.cmake (LibTorch >= 2.10
// needs C++20; pip's torch ships its own fmt headers).
//
// Torch's JIT and CUDA headers stay in the .cpp; this header needs only <torch/version.h>.
#pragma once

#include <string>

#include <torch/version.h>

/// True when compiling against LibTorch `major.minor` or newer.
#define NEURALOM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace neuralom::torch_compat {

/// The LibTorch version compiled against, e.g. "1.13.0" or "2.14.1".
std::string libtorch_version();

/// Makes TorchScript run modules with the plain (non-optimising, non-profiling) graph executor.
/// Process-wide; affects modules run after the call. 1.13 and 2.x both default to the profiling
/// executor, whose profiling runs and specialised plans buy nothing on the CPU for our graphs
/// (no CPU fusion) but keep gigabytes of state alive at full size.
void use_plain_graph_executor();

/// Sends LibTorch's warnings (TORCH_WARN) to neuralom's log instead of LibTorch's own stderr
/// lines, which bypass --log-level and look like errors: "LibTorch: <message>" at warn level, and
/// notices about our own exported operators (scatter_reduce "is in beta" in 1.13, used by the
/// atmosphere model's edge softmax) at debug level. Process-wide; idempotent.
void route_warnings_to_log();

/// The CUDA runtime version LibTorch was built against ("13.0"), or "" in a CPU build. Needs no
/// GPU or driver. Never throws.
std::string cuda_runtime_version();

/// The CUDA toolkit version whose headers neuralom was compiled with ("13.0"), or "" in a CPU
/// build. Differs from cuda_runtime_version() when the local toolkit and LibTorch's CUDA differ.
std::string cuda_headers_version();

}  // namespace neuralom::torch_compat
