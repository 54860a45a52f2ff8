#include "neuralom/model/runtime.h"

#include <gtest/gtest.h>

#include <ATen/Parallel.h>

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

}  // namespace
}  // namespace neuralom
