// The arithmetic of the fused operators' CUDA kernels, one lane of one row at a time, written
// once for two compilers: nvcc builds the kernels of detail/cuda_fused_kernels.cu from it (a warp
// per row, its 32 lanes reduced with shuffles), and the host compiler builds the unit test that
// runs the same lanes in a loop against ATen's operators on any machine, GPU or not
// (tests/unit/model/cuda_fused_rows_test.cpp).
//
// A row is `width` contiguous floats, read in chunks of kVec (4: one float4 load on the GPU, for
// rows that are 16-byte aligned with width % 4 == 0; 1 otherwise). Lane `lane` of a warp takes the
// chunks k = lane, lane + 32, lane + 64, ...
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define NEURALOM_LANE_FN __host__ __device__ __forceinline__
#else
#define NEURALOM_LANE_FN inline
#endif

namespace neuralom::detail::lanes {

// One warp per row: the rows are the graph's edges or nodes (10^4 to 10^6 of them) and a row is
// the hidden width (tens to hundreds of floats), so a warp reads a row in a few coalesced loads
// and reduces it with shuffles, without shared memory or block-wide barriers.
constexpr int kWarp = 32;
constexpr int kWarpsPerBlock = 8;
constexpr int kThreads = kWarp * kWarpsPerBlock;
// Enough blocks to fill any GPU many times over; beyond that the warps stride over the rows.
constexpr int64_t kMaxBlocks = 65535;

/// The blocks of kThreads threads a kernel over `rows` rows is launched with.
inline unsigned blocks_for(int64_t rows) {
  const int64_t blocks = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  return static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks);
}

/// The first row of the warp of thread `thread` of block `block`, and the step to its next row in
/// a grid of `blocks` blocks: the grid's warps take rows w, w + W, w + 2W, ... (W warps in all).
NEURALOM_LANE_FN int64_t first_row(unsigned block, unsigned thread) {
  return static_cast<int64_t>(block) * kWarpsPerBlock + thread / kWarp;
}
NEURALOM_LANE_FN int64_t row_stride(unsigned blocks) { return static_cast<int64_t>(blocks) * kWarpsPerBlock; }

/// Whether rows of `width` floats at these addresses can be read as float4s: 16-byte aligned,
/// width a multiple of 4 (so that every row is aligned too).
template <typename... Pointers>
bool vectorisable(int64_t width, const Pointers*... pointers) {
  return width % 4 == 0 && ((reinterpret_cast<std::uintptr_t>(pointers) % 16 == 0) && ...);
}

template <int kVec>
struct Chunk {
  float v[kVec];
};

/// Chunk k of `row`.
template <int kVec>
NEURALOM_LANE_FN Chunk<kVec> load(const float* row, int64_t k) {
  Chunk<kVec> c;
#if defined(__CUDA_ARCH__)
  if constexpr (kVec == 4) {
    const float4 f = reinterpret_cast<const float4*>(row)[k];
    c.v[0] = f.x;
    c.v[1] = f.y;
    c.v[2] = f.z;
    c.v[3] = f.w;
  } else  // NOLINT(readability/braces): the host compiler has no float4
#endif
  {
    for (int t = 0; t < kVec; ++t) c.v[t] = row[k * kVec + t];
  }
  return c;
}

template <int kVec>
NEURALOM_LANE_FN void store(float* row, int64_t k, const Chunk<kVec>& c) {
#if defined(__CUDA_ARCH__)
  if constexpr (kVec == 4) {
    reinterpret_cast<float4*>(row)[k] = make_float4(c.v[0], c.v[1], c.v[2], c.v[3]);
  } else  // NOLINT(readability/braces)
#endif
  {
    for (int t = 0; t < kVec; ++t) row[k * kVec + t] = c.v[t];
  }
}

/// ATen's SiLU in float32: x / (1 + exp(-x)).
NEURALOM_LANE_FN float silu(float x) {
#if defined(__CUDA_ARCH__)
  return x / (1.0f + expf(-x));
#else
  return x / (1.0f + std::exp(-x));
#endif
}

/// 1 / sqrt(variance + eps), the variance being the biased one, `squares` / `n`.
NEURALOM_LANE_FN float inverse_std(float squares, float n, float eps) {
#if defined(__CUDA_ARCH__)
  return rsqrtf(squares / n + eps);
#else
  return 1.0f / std::sqrt(squares / n + eps);
#endif
}

/// out = silu((s + e) + d) on this lane's chunks of the edge's rows (the unfused order of the
/// additions).
template <int kVec>
NEURALOM_LANE_FN void edge_silu(const float* s_row, const float* e_row, const float* d_row, float* out_row,
                                int64_t width, int lane) {
  for (int64_t k = lane; k < width / kVec; k += kWarp) {
    const Chunk<kVec> a = load<kVec>(s_row, k);
    const Chunk<kVec> x = load<kVec>(e_row, k);
    const Chunk<kVec> b = load<kVec>(d_row, k);
    Chunk<kVec> o;
    for (int t = 0; t < kVec; ++t) o.v[t] = silu((a.v[t] + x.v[t]) + b.v[t]);
    store<kVec>(out_row, k, o);
  }
}

/// This lane's part of the sum of the row.
template <int kVec>
NEURALOM_LANE_FN float row_sum(const float* row, int64_t width, int lane) {
  float sum = 0.0f;
  for (int64_t k = lane; k < width / kVec; k += kWarp) {
    const Chunk<kVec> c = load<kVec>(row, k);
    for (int t = 0; t < kVec; ++t) sum += c.v[t];
  }
  return sum;
}

/// This lane's part of the sum of squared deviations from `mean`: a second pass over the row,
/// which does not cancel the way E[x^2] - mean^2 does.
template <int kVec>
NEURALOM_LANE_FN float row_squares(const float* row, int64_t width, float mean, int lane) {
  float squares = 0.0f;
  for (int64_t k = lane; k < width / kVec; k += kWarp) {
    const Chunk<kVec> c = load<kVec>(row, k);
    for (int t = 0; t < kVec; ++t) {
      const float dev = c.v[t] - mean;
      squares += dev * dev;
    }
  }
  return squares;
}

/// The normalised chunk k of the row: (x - mean) * inv_std * weight + bias.
template <int kVec>
NEURALOM_LANE_FN Chunk<kVec> normalised(const float* row, const float* weight, const float* bias, float mean,
                                        float inv_std, int64_t k) {
  const Chunk<kVec> c = load<kVec>(row, k);
  const Chunk<kVec> w = load<kVec>(weight, k);
  const Chunk<kVec> b = load<kVec>(bias, k);
  Chunk<kVec> y;
  for (int t = 0; t < kVec; ++t) y.v[t] = (c.v[t] - mean) * inv_std * w.v[t] + b.v[t];
  return y;
}

/// out = LayerNorm(row) + residual on this lane's chunks.
template <int kVec>
NEURALOM_LANE_FN void layer_norm_add(const float* row, const float* weight, const float* bias, float mean,
                                     float inv_std, const float* residual_row, float* out_row, int64_t width,
                                     int lane) {
  for (int64_t k = lane; k < width / kVec; k += kWarp) {
    Chunk<kVec> y = normalised<kVec>(row, weight, bias, mean, inv_std, k);
    const Chunk<kVec> r = load<kVec>(residual_row, k);
    for (int t = 0; t < kVec; ++t) y.v[t] += r.v[t];
    store<kVec>(out_row, k, y);
  }
}

/// target += LayerNorm(row) on this lane's chunks; `add(float* p, float v)` adds one value (an
/// atomic addition on the GPU, where other warps add to the same node).
template <int kVec, typename Add>
NEURALOM_LANE_FN void layer_norm_accumulate(const float* row, const float* weight, const float* bias, float mean,
                                            float inv_std, float* target_row, int64_t width, int lane, Add add) {
  for (int64_t k = lane; k < width / kVec; k += kWarp) {
    const Chunk<kVec> y = normalised<kVec>(row, weight, bias, mean, inv_std, k);
    for (int t = 0; t < kVec; ++t) add(target_row + k * kVec + t, y.v[t]);
  }
}

}  // namespace neuralom::detail::lanes
