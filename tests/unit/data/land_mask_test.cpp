// The grid points that need a model output: ocean in at least one channel of the mask.
#include "neuralom/data/land_mask.h"

#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace neuralom {
namespace {

std::vector<int64_t> values(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

TEST(OceanNodes, AreThePointsOceanInAnyChannelInRowMajorOrder) {
  // 2 channels on a 2x3 grid (true = ocean). Channel 0 (surface) has ocean at (0,1), (1,0) and
  // (1,2); channel 1 (deeper) only at (0,2), which the surface does not have. Points r*3 + c:
  // 0 is land in both, 1 ocean, 2 ocean (channel 1 only), 3 ocean, 4 land in both, 5 ocean.
  const at::Tensor mask =
      at::tensor(std::vector<int64_t>{0, 1, 0, 1, 0, 1, /* channel 1 */ 0, 0, 1, 0, 0, 0}).view({2, 2, 3}).to(at::kBool);
  const at::Tensor nodes = ocean_nodes(mask);
  EXPECT_EQ(nodes.scalar_type(), at::kLong);
  EXPECT_EQ(nodes.dim(), 1);
  EXPECT_EQ(values(nodes), (std::vector<int64_t>{1, 2, 3, 5}));
}

TEST(OceanNodes, AllOceanGivesEveryPointAndAllLandNone) {
  EXPECT_EQ(values(ocean_nodes(at::ones({3, 2, 2}, at::kBool))), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(ocean_nodes(at::zeros({3, 2, 2}, at::kBool)).numel(), 0);
}

}  // namespace
}  // namespace neuralom
