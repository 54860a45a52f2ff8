// The fused CPU kernels against hand-computed values and against the unfused ATen operators they
// replace; the operators as TorchScript calls them.
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

// --- LayerNorm + residual, LayerNorm + scatter-sum ----------------------------------------------

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  return at::layer_norm(x, {x.size(-1)}, w, b, 1e-5, /*cudnn_enable=*/false);
}

TEST(LayerNormAdd, HandComputed) {
  // One row (1, 2, 3): mean 2, variance 2/3; weight (1, 2, 1), bias (0, 0, 1), residual (10, 20, 30).
  const at::Tensor x = at::tensor(std::vector<float>{1.0F, 2.0F, 3.0F}).view({1, 3});
  const at::Tensor w = at::tensor(std::vector<float>{1.0F, 2.0F, 1.0F});
  const at::Tensor b = at::tensor(std::vector<float>{0.0F, 0.0F, 1.0F});
  const at::Tensor r = at::tensor(std::vector<float>{10.0F, 20.0F, 30.0F}).view({1, 3});
  const at::Tensor out = layer_norm_add(x, 3, w, b, 1e-5, r);
  const double z = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
  EXPECT_NEAR(out[0][0].item<float>(), 10.0 - z, 1e-5);
  EXPECT_NEAR(out[0][1].item<float>(), 20.0, 1e-5);
  EXPECT_NEAR(out[0][2].item<float>(), 30.0 + z + 1.0, 1e-5);
}

TEST(LayerNormAdd, EqualsTheUnfusedOperatorsBitForBit) {
  // More rows than a few blocks, a width that is not a multiple of the vector length, and the
  // [B, N, H] shape of a batched tensor.
  at::manual_seed(11);
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{3 * kLayerNormBlockRows + 17, 37},
                                            std::vector<int64_t>{2, 1500, 24}}) {
    const int64_t width = shape.back();
    const at::Tensor x = at::randn(shape) * 3 + 1;
    const at::Tensor r = at::randn(shape);
    const at::Tensor w = at::randn({width});
    const at::Tensor b = at::randn({width});
    const at::Tensor fused = layer_norm_add(x, width, w, b, 1e-5, r);
    EXPECT_TRUE(at::equal(fused, layer_norm(x, w, b).add_(r))) << shape.size();
  }
}

TEST(LayerNormAdd, OtherLayoutsTakeTheUnfusedOperators) {
  at::manual_seed(5);
  const at::Tensor w = at::randn({6});
  const at::Tensor b = at::randn({6});
  // A residual that broadcasts, double precision, no affine parameters, a non-contiguous input.
  const at::Tensor x = at::randn({10, 6});
  const at::Tensor row = at::randn({6});
  EXPECT_TRUE(at::equal(layer_norm_add(x, 6, w, b, 1e-5, row), layer_norm(x, w, b).add_(row)));
  const at::Tensor xd = x.to(at::kDouble);
  EXPECT_TRUE(at::equal(layer_norm_add(xd, 6, w.to(at::kDouble), b.to(at::kDouble), 1e-5, xd),
                        layer_norm(xd, w.to(at::kDouble), b.to(at::kDouble)).add_(xd)));
  EXPECT_TRUE(at::equal(layer_norm_add(x, 6, c10::nullopt, c10::nullopt, 1e-5, x),
                        at::layer_norm(x, {6}).add_(x)));
  const at::Tensor strided = at::randn({6, 10}).t();
  EXPECT_TRUE(at::equal(layer_norm_add(strided, 6, w, b, 1e-5, x), layer_norm(strided, w, b).add_(x)));
}

TEST(LayerNormIndexAdd, HandComputed) {
  // Rows (1, 3) and (0, 4) normalise to (-1, 1) each (variance 1 and 4, eps 0 for round numbers);
  // with weight (2, 1) and bias (0, 1): (-2, 2) each. Both onto node 1, none onto node 0.
  const at::Tensor x = at::tensor(std::vector<float>{1.0F, 3.0F, 0.0F, 4.0F}).view({2, 2});
  const at::Tensor w = at::tensor(std::vector<float>{2.0F, 1.0F});
  const at::Tensor b = at::tensor(std::vector<float>{0.0F, 1.0F});
  at::Tensor agg = at::tensor(std::vector<float>{5.0F, 5.0F, 1.0F, 1.0F}).view({2, 2});
  const at::Tensor index = at::tensor(std::vector<int64_t>{1, 1});
  at::Tensor& out = layer_norm_index_add_(agg, index, x, 2, w, b, 0.0);
  EXPECT_TRUE(out.is_same(agg));
  const std::vector<float> expected{5.0F, 5.0F, 1.0F - 4.0F, 1.0F + 4.0F};
  for (int64_t i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(agg.view(-1)[i].item<float>(), expected[static_cast<std::size_t>(i)]);
}

TEST(LayerNormIndexAdd, EqualsTheUnfusedOperatorsBitForBit) {
  // Edges sorted by destination as the graphs store them, and unsorted; destinations shared
  // across block boundaries, so that the order of the sums matters.
  at::manual_seed(13);
  const int64_t edges = 3 * kLayerNormBlockRows + 101;
  const int64_t width = 37;
  const int64_t nodes = 700;
  const at::Tensor x = at::randn({edges, width}) * 2 - 1;
  const at::Tensor w = at::randn({width});
  const at::Tensor b = at::randn({width});
  const at::Tensor start = at::randn({nodes, width});
  const at::Tensor random = at::randint(0, nodes, {edges}, at::kLong);
  for (const at::Tensor& index : {std::get<0>(random.sort()), random}) {
    at::Tensor fused = start.clone();
    layer_norm_index_add_(fused, index, x, width, w, b, 1e-5);
    at::Tensor reference = start.clone();
    reference.index_add_(0, index, layer_norm(x, w, b));
    EXPECT_TRUE(at::equal(fused, reference));
  }
}

TEST(LayerNormIndexAdd, IntoItsOwnInputNormalisesEveryRowFirst) {
  // x.index_add_(0, i, layer_norm(x)), and into a view of x's later rows: the exported sequence
  // normalises all of x before it adds, so blocks after the first must not see the sums.
  at::manual_seed(17);
  const int64_t rows = 3 * kLayerNormBlockRows;
  const int64_t width = 8;
  const at::Tensor w = at::randn({width});
  const at::Tensor b = at::randn({width});
  const at::Tensor start = at::randn({rows, width});
  const at::Tensor index = at::randint(0, rows / 2, {rows}, at::kLong);

  at::Tensor whole = start.clone();
  layer_norm_index_add_(whole, index, whole, width, w, b, 1e-5);
  at::Tensor reference = start.clone();
  reference.index_add_(0, index, layer_norm(start, w, b));
  EXPECT_TRUE(at::equal(whole, reference));

  at::Tensor x = start.clone();
  at::Tensor tail = x.narrow(0, rows / 2, rows / 2);  // contiguous, and inside x
  layer_norm_index_add_(tail, index, x, width, w, b, 1e-5);
  at::Tensor tail_reference = start.narrow(0, rows / 2, rows / 2).clone();
  tail_reference.index_add_(0, index, layer_norm(start, w, b));
  EXPECT_TRUE(at::equal(tail, tail_reference));
}

TEST(LayerNormIndexAdd, RejectsIndicesOutOfRangeBeforeAddingAnything) {
  const at::Tensor x = at::randn({2 * kLayerNormBlockRows, 3});
  const at::Tensor w = at::ones({3});
  const at::Tensor b = at::zeros({3});
  at::Tensor agg = at::zeros({4, 3});
  at::Tensor index = at::zeros({2 * kLayerNormBlockRows}, at::kLong);
  index[2 * kLayerNormBlockRows - 1] = 4;  // in the last block
  EXPECT_THROW(layer_norm_index_add_(agg, index, x, 3, w, b, 1e-5), c10::Error);
  EXPECT_TRUE(at::equal(agg, at::zeros({4, 3})));
  index[2 * kLayerNormBlockRows - 1] = -1;
  EXPECT_THROW(layer_norm_index_add_(agg, index, x, 3, w, b, 1e-5), c10::Error);
}

TEST(LayerNormKernels, AreRegisteredAsTorchOperators) {
  auto& dispatcher = c10::Dispatcher::singleton();
  for (const char* name : {fused_operator_names().edge_silu, fused_operator_names().layer_norm_add,
                           fused_operator_names().layer_norm_index_add}) {
    EXPECT_TRUE(dispatcher.findSchema({name, ""}).has_value()) << name;
  }
}

}  // namespace
}  // namespace neuralom
