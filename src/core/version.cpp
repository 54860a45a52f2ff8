#include "neuralom/core/version.h"

#include <torch/version.h>

#include "neuralom/build_info.h"

namespace neuralom {

VersionInfo version_info() {
  VersionInfo info;
  info.version = NEURALOM_VERSION_STRING;
  info.git_revision = NEURALOM_GIT_REVISION;
  info.build_type = NEURALOM_BUILD_TYPE;
  info.compiler = NEURALOM_CXX_COMPILER;
  info.torch_version = TORCH_VERSION;
  info.flavour = NEURALOM_TORCH_FLAVOUR;
#ifdef NEURALOM_WITH_CUDA
  info.torch_cuda = true;
  info.cuda_kernel_architectures = NEURALOM_CUDA_KERNEL_ARCHITECTURES;
#endif
  info.cxx_standard = static_cast<int>(__cplusplus / 100 % 100);
  return info;
}

std::string version_line() {
  const VersionInfo info = version_info();
  return "neuralom " + info.version + " (git " + info.git_revision + ", LibTorch " +
         info.torch_version + ", " + (info.torch_cuda ? "CUDA" : "CPU") + " build)";
}

}  // namespace neuralom
