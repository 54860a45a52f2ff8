// The CPU side of the device queue: markers are host clock readings, uploads are the host tensor,
// and the finite monitor checks at once (the CUDA side is exercised by scripts/gpu_check.sh).
#include "neuralom/model/device_queue.h"

#include <limits>
#include <thread>

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/finite_check.h"

namespace neuralom {
namespace {

TEST(DeviceMarkerTest, CpuMarkersAreReachedAndTimeTheHost) {
  const c10::Device cpu(c10::kCPU);
  const DeviceMarker a = DeviceMarker::record(cpu);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const DeviceMarker b = DeviceMarker::record(cpu);
  EXPECT_TRUE(a.reached());
  EXPECT_TRUE(b.reached());
  b.wait();  // returns at once
  EXPECT_GE(b.seconds_since(a), 0.019);
  EXPECT_LT(b.seconds_since(a), 10.0);
  EXPECT_LE(a.seconds_since(b), 0.0);
}

TEST(InputUploaderTest, OnTheCpuTheHostTensorIsUsedAsItIs) {
  const InputUploader uploader{c10::Device(c10::kCPU)};
  const at::Tensor host = at::arange(12, at::kFloat).reshape({1, 3, 2, 2});
  const at::Tensor device = uploader.upload(host);
  EXPECT_EQ(device.data_ptr(), host.data_ptr());
  EXPECT_TRUE(at::equal(device, host));
}

TEST(FiniteMonitorTest, OnTheCpuChecksAtOnceWithCheckFinitesMessage) {
  FiniteMonitor monitor({"T0", "S0"}, /*warn_only=*/false);
  at::Tensor x = at::zeros({1, 2, 2, 2});
  monitor.watch(x, "day 1");
  EXPECT_EQ(monitor.pending(), 0U);
  x[0][1][0][1] = std::numeric_limits<float>::quiet_NaN();
  try {
    monitor.watch(x, "prediction for lead day 2 of IC 7");
    FAIL() << "NaN not reported";
  } catch (const NumericalError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("prediction for lead day 2 of IC 7 contains non-finite values: 1 in channel 1 (S0)"),
              std::string::npos)
        << msg;
  }
  monitor.poll();
  monitor.drain();
  EXPECT_EQ(monitor.pending(), 0U);
}

TEST(FiniteMonitorTest, WarnOnlyDoesNotThrow) {
  FiniteMonitor monitor({}, /*warn_only=*/true);
  at::Tensor x = at::zeros({1, 1, 2, 2});
  x[0][0][0][0] = std::numeric_limits<float>::infinity();
  EXPECT_NO_THROW(monitor.watch(x, "day 1"));
  EXPECT_NO_THROW(monitor.drain());
}

}  // namespace
}  // namespace neuralom
