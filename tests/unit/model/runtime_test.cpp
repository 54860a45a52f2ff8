#include "neuralom/model/runtime.h"

#include <cstdlib>

#include <gtest/gtest.h>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

TEST(RuntimeTest, ConfigureThreadsAppliesExplicitCount) {
  EXPECT_EQ(configure_threads(1), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(configure_threads(2), 2);
  EXPECT_EQ(at::get_num_threads(), 2);
}

TEST(RuntimeTest, ConfigureThreadsZeroMeansAllHardwareThreads) {
  EXPECT_EQ(configure_threads(0), hardware_threads());
  EXPECT_EQ(at::get_num_threads(), hardware_threads());
}

TEST(RuntimeTest, SelectDeviceCpu) {
  const c10::Device d = select_device("cpu");
  EXPECT_TRUE(d.is_cpu());
}

TEST(RuntimeTest, SelectDeviceRejectsMalformedNames) {
  EXPECT_THROW(select_device("gpu"), ConfigError);
  EXPECT_THROW(select_device("cuda:x"), ConfigError);
  EXPECT_THROW(select_device("cuda:-1"), ConfigError);
}

TEST(RuntimeTest, SelectDeviceRejectsMissingCudaDevice) {
  // Index 99 is never present, with or without CUDA.
  EXPECT_THROW(select_device("cuda:99"), ConfigError);
}

TEST(RuntimeTest, DetectBlasFindsTheLoadedLibrary) {
  const BlasInfo blas = detect_blas();
  // LibTorch always links a BLAS; whichever it is, detection must name it.
  EXPECT_NE(blas.name, "unknown");
  EXPECT_FALSE(blas.library_path.empty());
}

TEST(RuntimeTest, DeviceForLocalRankKeepsExplicitRequests) {
  // With MPI, "auto"/"cuda" become cuda:<local rank mod GPUs>; an explicit device or the CPU stays.
  EXPECT_EQ(device_for_local_rank("cuda:1", 3, 4), "cuda:1");
  EXPECT_EQ(device_for_local_rank("cpu", 1, 2), "cpu");
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(device_for_local_rank("auto", 1, 2), "auto");  // no GPU: select_device decides
    EXPECT_EQ(device_for_local_rank("cuda", 1, 2), "cuda");  // and refuses it (ConfigError)
  } else {
    const auto n = static_cast<int>(torch::cuda::device_count());
    EXPECT_EQ(device_for_local_rank("auto", 5, 8), "cuda:" + std::to_string(5 % n));
    EXPECT_EQ(device_for_local_rank("cuda", 0, 1), "cuda:0");
  }
}

TEST(RuntimeTest, DeterministicAlgorithmsSetLibTorchsFlagAndCublasWorkspace) {
  ::unsetenv("CUBLAS_WORKSPACE_CONFIG");
  use_deterministic_algorithms();
  EXPECT_TRUE(at::globalContext().deterministicAlgorithms());
  ASSERT_NE(std::getenv("CUBLAS_WORKSPACE_CONFIG"), nullptr);
  EXPECT_STREQ(std::getenv("CUBLAS_WORKSPACE_CONFIG"), ":4096:8");
  ::setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8", 1);  // a user's own setting is kept
  use_deterministic_algorithms();
  EXPECT_STREQ(std::getenv("CUBLAS_WORKSPACE_CONFIG"), ":16:8");
  at::globalContext().setDeterministicAlgorithms(false, false);  // process-wide: restore
  ::unsetenv("CUBLAS_WORKSPACE_CONFIG");
}

TEST(RuntimeTest, PeakDeviceMemoryIsUnknownOnTheCpu) {
  EXPECT_EQ(peak_device_gib(c10::Device(c10::kCPU)), -1.0);
}

}  // namespace
}  // namespace neuralom
