// The LibTorch compatibility layer reports the LibTorch and CUDA versions of this build.
#include "neuralom/model/torch_compat.h"

#include <memory>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

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

TEST(TorchCompatTest, LibTorchWarningsGoToTheLog) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(8);
  sink->set_pattern("%l|%v");
  const auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>("torch_compat_test", sink);
  logger->set_level(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  torch_compat::route_warnings_to_log();
  TORCH_WARN("a tensor was resized");
  TORCH_WARN("scatter_reduce() is in beta and the API may change at any time.");
  spdlog::set_default_logger(previous);
  EXPECT_EQ(sink->last_formatted(), (std::vector<std::string>{
                                        "warning|LibTorch: a tensor was resized\n",
                                        "debug|LibTorch: scatter_reduce() is in beta and the API may change at any time.\n"}));
}

}  // namespace
}  // namespace neuralom
