// The LibTorch compatibility layer reports the LibTorch and CUDA versions of this build.
#include "neuralom/model/torch_compat.h"

#include <string>

#include <gtest/gtest.h>

namespace neuralom {
namespace {

TEST(TorchCompatTest, LibtorchVersionMatchesTheVersionMacros) {
  const std::string expected = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) +
                               "." + std::to_string(TORCH_VERSION_PATCH);
  EXPECT_EQ(torch_compat::libtorch_version(), expected);
}

TEST(TorchCompatTest, AtLeastComparesMajorThenMinor) {
  EXPECT_TRUE(NEURALOM_TORCH_AT_LEAST(1, 13));
  EXPECT_TRUE(NEURALOM_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR));
  EXPECT_FALSE(NEURALOM_TORCH_AT_LEAST(TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR + 1));
  EXPECT_FALSE(NEURALOM_TORCH_AT_LEAST(TORCH_VERSION_MAJOR + 1, 0));
}

TEST(TorchCompatTest, CudaVersionsOnlyInCudaBuilds) {
#ifdef NEURALOM_WITH_CUDA
  // "13.0", "12.8": major.minor, needing no GPU.
  EXPECT_NE(torch_compat::cuda_runtime_version().find('.'), std::string::npos);
  EXPECT_NE(torch_compat::cuda_headers_version().find('.'), std::string::npos);
#else
  EXPECT_EQ(torch_compat::cuda_runtime_version(), "");
  EXPECT_EQ(torch_compat::cuda_headers_version(), "");
#endif
}

}  // namespace
}  // namespace neuralom
