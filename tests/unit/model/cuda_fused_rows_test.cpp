// The arithmetic of the fused operators' CUDA kernels (model/detail/cuda_fused_rows.h), run on
// the host: a warp's 32 lanes in a loop, the shuffle reductions as the same butterfly over an
// array, atomic additions as plain ones. Against hand-computed values and ATen's CPU operators,
// in every build (a GPU runs the kernels themselves: cuda_fused_ops_test.cpp).
#include "model/detail/cuda_fused_rows.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace neuralom::detail::lanes {
namespace {

using Lanes = std::array<float, kWarp>;

/// What __shfl_xor_sync's butterfly leaves in every lane: partial sums paired as on the GPU.
float warp_sum(Lanes v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    Lanes next{};
    for (int lane = 0; lane < kWarp; ++lane) next[lane] = v[lane] + v[lane ^ offset];
    v = next;
  }
  return v[0];
}

template <int kVec>
at::Tensor edge_silu_on_lanes(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                              const at::Tensor& dst) {
  const int64_t width = e.size(1);
  at::Tensor out = at::full(e.sizes(), std::numeric_limits<float>::quiet_NaN());
  for (int64_t i = 0; i < e.size(0); ++i) {
    for (int lane = 0; lane < kWarp; ++lane) {
      edge_silu<kVec>(s.data_ptr<float>() + src[i].item<int64_t>() * width, e.data_ptr<float>() + i * width,
                      d.data_ptr<float>() + dst[i].item<int64_t>() * width, out.data_ptr<float>() + i * width, width,
                      lane);
    }
  }
  return out;
}

struct RowStatistics {
  float mean;
  float inv_std;
};

/// A warp's mean and 1/std of `row`, as the kernel computes them.
template <int kVec>
RowStatistics statistics(const float* row, int64_t width, float eps) {
  const float n = static_cast<float>(width);
  Lanes sums{};
  for (int lane = 0; lane < kWarp; ++lane) sums[lane] = row_sum<kVec>(row, width, lane);
  const float mean = warp_sum(sums) / n;
  Lanes squares{};
  for (int lane = 0; lane < kWarp; ++lane) squares[lane] = row_squares<kVec>(row, width, mean, lane);
  return {mean, inverse_std(warp_sum(squares), n, eps)};
}

template <int kVec>
at::Tensor layer_norm_add_on_lanes(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, float eps,
                                   const at::Tensor& residual) {
  const int64_t width = x.size(-1);
  at::Tensor out = at::full(x.sizes(), std::numeric_limits<float>::quiet_NaN());
  for (int64_t r = 0; r < x.numel() / width; ++r) {
    const float* row = x.data_ptr<float>() + r * width;
    const RowStatistics st = statistics<kVec>(row, width, eps);
    for (int lane = 0; lane < kWarp; ++lane) {
      layer_norm_add<kVec>(row, w.data_ptr<float>(), b.data_ptr<float>(), st.mean, st.inv_std,
                           residual.data_ptr<float>() + r * width, out.data_ptr<float>() + r * width, width, lane);
    }
  }
  return out;
}

template <int kVec>
void layer_norm_index_add_on_lanes(at::Tensor& self, const at::Tensor& index, const at::Tensor& x,
                                   const at::Tensor& w, const at::Tensor& b, float eps) {
  const int64_t width = x.size(1);
  for (int64_t r = 0; r < x.size(0); ++r) {
    const float* row = x.data_ptr<float>() + r * width;
    const RowStatistics st = statistics<kVec>(row, width, eps);
    float* target = self.data_ptr<float>() + index[r].item<int64_t>() * width;
    for (int lane = 0; lane < kWarp; ++lane) {
      layer_norm_accumulate<kVec>(row, w.data_ptr<float>(), b.data_ptr<float>(), st.mean, st.inv_std, target, width,
                                  lane, [](float* p, float v) { *p += v; });
    }
  }
}

/// max |a - b| / max(1, max |b|); NaN (an element never written) fails any bound.
double relative_difference(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kDouble);
  const at::Tensor y = b.to(at::kDouble);
  if (!x.isfinite().all().item<bool>()) return std::numeric_limits<double>::infinity();
  return (x - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  return at::layer_norm(x, {x.size(-1)}, w, b, 1e-5, /*cudnn_enable=*/false);
}

float silu_of(float x) { return x / (1.0F + std::exp(-x)); }

TEST(CudaFusedRows, EdgeSiluHandComputed) {
  // 1 edge, width 4: s[1] + e[0] + d[0] = (1 + 0.5 + 0, -2 + 0 + 1, 0 + 0 + 0, 3 - 1 + 0.5).
  const at::Tensor s = at::tensor(std::vector<float>{9, 9, 9, 9, 1, -2, 0, 3}).view({2, 4});
  const at::Tensor e = at::tensor(std::vector<float>{0.5F, 0, 0, -1}).view({1, 4});
  const at::Tensor d = at::tensor(std::vector<float>{0, 1, 0, 0.5F}).view({1, 4});
  const at::Tensor src = at::tensor(std::vector<int64_t>{1});
  const at::Tensor dst = at::tensor(std::vector<int64_t>{0});
  const std::vector<float> sums{1.5F, -1.0F, 0.0F, 2.5F};
  for (const at::Tensor& out : {edge_silu_on_lanes<4>(s, src, e, d, dst), edge_silu_on_lanes<1>(s, src, e, d, dst)}) {
    for (int64_t j = 0; j < 4; ++j) EXPECT_FLOAT_EQ(out[0][j].item<float>(), silu_of(sums[j])) << j;
  }
}

TEST(CudaFusedRows, EdgeSiluEqualsTheUnfusedOperators) {
  at::manual_seed(21);
  // The full-size width (432: 108 float4 chunks over 32 lanes), one under a warp (20) and an odd
  // one (37, one float at a time).
  for (const int64_t width : {432, 20, 37}) {
    const at::Tensor s = at::randn({30, width});
    const at::Tensor d = at::randn({50, width});
    const at::Tensor e = at::randn({200, width});
    const at::Tensor src = at::randint(0, 30, {200}, at::kLong);
    const at::Tensor dst = at::randint(0, 50, {200}, at::kLong);
    const at::Tensor reference = at::silu_(s.index_select(0, src).add_(e).add_(d.index_select(0, dst)));
    EXPECT_LE(relative_difference(edge_silu_on_lanes<1>(s, src, e, d, dst), reference), 1e-6) << width;
    if (width % 4 == 0) {
      EXPECT_LE(relative_difference(edge_silu_on_lanes<4>(s, src, e, d, dst), reference), 1e-6) << width;
    }
  }
}

TEST(CudaFusedRows, LayerNormAddHandComputed) {
  // Row (1, 2, 3, 4): mean 2.5, biased variance 1.25; weight 2, bias 1, residual 10.
  const at::Tensor x = at::tensor(std::vector<float>{1, 2, 3, 4}).view({1, 4});
  const at::Tensor w = at::full({4}, 2.0F);
  const at::Tensor b = at::ones({4});
  const at::Tensor residual = at::full({1, 4}, 10.0F);
  const float inv_std = 1.0F / std::sqrt(1.25F + 1e-5F);
  for (const at::Tensor& out : {layer_norm_add_on_lanes<4>(x, w, b, 1e-5F, residual),
                                layer_norm_add_on_lanes<1>(x, w, b, 1e-5F, residual)}) {
    for (int64_t j = 0; j < 4; ++j) {
      const float expected = (static_cast<float>(j + 1) - 2.5F) * inv_std * 2.0F + 1.0F + 10.0F;
      EXPECT_NEAR(out[0][j].item<float>(), expected, 1e-5F) << j;
    }
  }
}

TEST(CudaFusedRows, LayerNormAddEqualsTheUnfusedOperators) {
  at::manual_seed(22);
  for (const int64_t width : {432, 20, 37}) {
    // Shifted and scaled, so that the two-pass variance matters; 3-D like a node update.
    const at::Tensor x = at::randn({2, 60, width}).mul_(3.0).add_(5.0);
    const at::Tensor residual = at::randn({2, 60, width});
    const at::Tensor w = at::randn({width});
    const at::Tensor b = at::randn({width});
    const at::Tensor reference = layer_norm(x, w, b).add_(residual);
    EXPECT_LE(relative_difference(layer_norm_add_on_lanes<1>(x, w, b, 1e-5F, residual), reference), 1e-5) << width;
    if (width % 4 == 0) {
      EXPECT_LE(relative_difference(layer_norm_add_on_lanes<4>(x, w, b, 1e-5F, residual), reference), 1e-5) << width;
    }
  }
}

TEST(CudaFusedRows, LayerNormIndexAddEqualsTheUnfusedOperators) {
  at::manual_seed(23);
  for (const int64_t width : {432, 37}) {
    const at::Tensor x = at::randn({300, width});
    const at::Tensor w = at::randn({width});
    const at::Tensor b = at::randn({width});
    const at::Tensor index = at::randint(0, 40, {300}, at::kLong);  // ~7.5 rows onto each node
    const at::Tensor start = at::randn({40, width});
    at::Tensor reference = start.clone();
    reference.index_add_(0, index, layer_norm(x, w, b));
    at::Tensor scalar = start.clone();
    layer_norm_index_add_on_lanes<1>(scalar, index, x, w, b, 1e-5F);
    EXPECT_LE(relative_difference(scalar, reference), 1e-5) << width;
    if (width % 4 == 0) {
      at::Tensor vector = start.clone();
      layer_norm_index_add_on_lanes<4>(vector, index, x, w, b, 1e-5F);
      EXPECT_LE(relative_difference(vector, reference), 1e-5) << width;
    }
  }
}

/// layer_norm_index_add_on_lanes<kVec> of the row `x` into a zeroed row that sits in front of a
/// guard of -7s: whether it equals ATen's LayerNorm, and whether the guard is left as it was.
template <int kVec>
void expect_one_row_covered_once(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  const int64_t width = x.size(1);
  at::Tensor guarded = at::full({2 * width}, -7.0F);
  at::Tensor accumulated = guarded.narrow(0, 0, width).view({1, width});
  accumulated.zero_();
  layer_norm_index_add_on_lanes<kVec>(accumulated, at::zeros({1}, at::kLong), x, w, b, 1e-5F);
  EXPECT_LE(relative_difference(accumulated, layer_norm(x, w, b)), 1e-5) << "width " << width << ", kVec " << kVec;
  EXPECT_TRUE(at::equal(guarded.narrow(0, width, width), at::full({width}, -7.0F)))
      << "width " << width << ", kVec " << kVec;
}

TEST(CudaFusedRows, TheLanesCoverEachRowOnce) {
  // Widths around multiples of the warp: every element is written once (a NaN left means one was
  // skipped, a doubled LayerNorm a chunk taken by two lanes), and nothing past the row.
  for (const int64_t width : {1, 4, 31, 32, 33, 128, 132, 260}) {
    const at::Tensor x = at::arange(static_cast<double>(width), at::kFloat).view({1, width});
    const at::Tensor w = at::ones({width});
    const at::Tensor b = at::zeros({width});
    expect_one_row_covered_once<1>(x, w, b);
    if (width % 4 == 0) expect_one_row_covered_once<4>(x, w, b);
  }
}

TEST(CudaFusedRows, TheGridGivesEveryRowToOneWarp) {
  // The launch's blocks and the kernels' grid-stride loop over rows: each row exactly once, also
  // past kMaxBlocks blocks, where the warps take several rows each.
  for (const int64_t rows : {int64_t{1}, int64_t{7}, int64_t{8}, int64_t{9}, int64_t{1000},
                             kMaxBlocks * kWarpsPerBlock, kMaxBlocks * kWarpsPerBlock + 5}) {
    const unsigned blocks = blocks_for(rows);
    EXPECT_LE(blocks, kMaxBlocks) << rows;
    std::vector<int> visits(static_cast<std::size_t>(rows), 0);
    for (unsigned block = 0; block < blocks; ++block) {
      for (unsigned thread = 0; thread < static_cast<unsigned>(kThreads); thread += kWarp) {  // lane 0 of each warp
        for (int64_t r = first_row(block, thread); r < rows; r += row_stride(blocks)) ++visits[static_cast<std::size_t>(r)];
      }
    }
    EXPECT_EQ(std::count(visits.begin(), visits.end(), 1), rows) << rows;
  }
  EXPECT_EQ(blocks_for(9), 2U);
  EXPECT_EQ(blocks_for(kMaxBlocks * kWarpsPerBlock * 3), static_cast<unsigned>(kMaxBlocks));
}

TEST(CudaFusedRows, Float4sOnlyForAlignedRowsOfWholeChunks) {
  alignas(16) float buffer[32] = {};
  EXPECT_TRUE(vectorisable(8, buffer, buffer + 4));
  EXPECT_TRUE(vectorisable(432, buffer, static_cast<const float*>(nullptr)));  // no residual
  EXPECT_FALSE(vectorisable(8, buffer, buffer + 1));                           // misaligned
  EXPECT_FALSE(vectorisable(6, buffer));                                       // rows not aligned
  EXPECT_FALSE(vectorisable(37, buffer));
}

}  // namespace
}  // namespace neuralom::detail::lanes
