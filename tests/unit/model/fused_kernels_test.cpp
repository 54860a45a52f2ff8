// neuralom::edge_silu against hand-computed values and against the unfused ATen operators it
// replaces; the operator as TorchScript calls it.
#include "neuralom/model/fused_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/util/Exception.h>
#include <gtest/gtest.h>

namespace neuralom {
namespace {

at::Tensor unfused(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                   const at::Tensor& dst) {
  at::Tensor h = s.index_select(0, src).add_(e).add_(d.index_select(0, dst));
  return at::silu_(h);
}

float silu(float x) { return x / (1.0F + std::exp(-x)); }

TEST(EdgeSilu, HandComputed) {
  // 2 source nodes, 3 destination nodes, 3 edges, width 2.
  const at::Tensor s = at::tensor(std::vector<float>{1.0F, 2.0F, -1.0F, 0.5F}).view({2, 2});
  const at::Tensor d = at::tensor(std::vector<float>{0.0F, 1.0F, 2.0F, -3.0F, 0.25F, 0.25F}).view({3, 2});
  const at::Tensor e = at::tensor(std::vector<float>{0.5F, 0.5F, 1.0F, -1.0F, 0.0F, 2.0F}).view({3, 2});
  const at::Tensor src = at::tensor(std::vector<int64_t>{1, 0, 1});
  const at::Tensor dst = at::tensor(std::vector<int64_t>{2, 0, 1});
  const at::Tensor out = edge_silu(s, src, e, d, dst);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 2}));
  // edge 0: s[1] + e[0] + d[2] = (-1 + 0.5 + 0.25, 0.5 + 0.5 + 0.25) = (-0.25, 1.25)
  // edge 1: s[0] + e[1] + d[0] = (1 + 1 + 0, 2 - 1 + 1) = (2, 2)
  // edge 2: s[1] + e[2] + d[1] = (-1 + 0 + 2, 0.5 + 2 - 3) = (1, -0.5)
  const std::vector<float> sums{-0.25F, 1.25F, 2.0F, 2.0F, 1.0F, -0.5F};
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_NEAR(out.view(-1)[i].item<float>(), silu(sums[static_cast<std::size_t>(i)]), 1e-6F) << i;
  }
}

TEST(EdgeSilu, EqualsTheUnfusedSumsAndAtensSiluOverTheSameBlocks) {
  // More rows than one block (4096) and a width that is not a multiple of the vector length.
  at::manual_seed(7);
  const int64_t edges = 10000;
  const int64_t width = 37;
  const at::Tensor s = at::randn({300, width});
  const at::Tensor d = at::randn({5000, width});
  const at::Tensor e = at::randn({edges, width});
  const at::Tensor src = at::randint(0, 300, {edges}, at::kLong);
  const at::Tensor dst = std::get<0>(at::randint(0, 5000, {edges}, at::kLong).sort());
  const at::Tensor fused = edge_silu(s, src, e, d, dst);
  // The same float32 additions in the same order, then ATen's SiLU on the same blocks: bit for bit,
  // on any CPU. (Against one SiLU over the whole tensor an element may differ by ATen's own
  // scalar-versus-vector difference, up to 2.2e-7 relative, which depends on the CPU's vector width.)
  at::Tensor reference = s.index_select(0, src).add_(e).add_(d.index_select(0, dst));
  for (int64_t begin = 0; begin < edges; begin += kEdgeSiluBlockRows) {
    at::Tensor block = reference.narrow(0, begin, std::min(kEdgeSiluBlockRows, edges - begin));
    at::silu_(block);
  }
  EXPECT_TRUE(at::equal(fused, reference));
}

TEST(EdgeSilu, OtherDtypesTakeTheUnfusedOperators) {
  at::manual_seed(3);
  const at::Tensor s = at::randn({4, 5}, at::kDouble);
  const at::Tensor d = at::randn({6, 5}, at::kDouble);
  const at::Tensor e = at::randn({8, 5}, at::kDouble);
  const at::Tensor src = at::randint(0, 4, {8}, at::kLong);
  const at::Tensor dst = at::randint(0, 6, {8}, at::kLong);
  EXPECT_TRUE(at::equal(edge_silu(s, src, e, d, dst), unfused(s, src, e, d, dst)));
}

TEST(EdgeSilu, RejectsIndicesOutOfRange) {
  const at::Tensor s = at::zeros({2, 3});
  const at::Tensor d = at::zeros({4, 3});
  const at::Tensor e = at::zeros({2, 3});
  const at::Tensor ok = at::tensor(std::vector<int64_t>{0, 1});
  EXPECT_THROW(edge_silu(s, at::tensor(std::vector<int64_t>{0, 2}), e, d, ok), c10::Error);
  EXPECT_THROW(edge_silu(s, ok, e, d, at::tensor(std::vector<int64_t>{-1, 3})), c10::Error);
}

TEST(EdgeSilu, IsRegisteredAsATorchOperator) {
  // What a rewritten TorchScript graph calls.
  const auto op = c10::Dispatcher::singleton().findSchema({"neuralom::edge_silu", ""});
  ASSERT_TRUE(op.has_value());
  const at::Tensor s = at::ones({1, 2});
  const at::Tensor idx = at::zeros({1}, at::kLong);
  const at::Tensor out = op->typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                              const at::Tensor&, const at::Tensor&)>()
                             .call(s, idx, s, s, idx);
  EXPECT_NEAR(out[0][0].item<float>(), silu(3.0F), 1e-6F);
}

}  // namespace
}  // namespace neuralom
