#include "model/detail/cuda_fused_kernels.h"

#include <cstdint>

#include <cuda_runtime.h>

#include "model/detail/cuda_fused_rows.h"

// Device-side assertions stay on in release builds: an index out of range must stop the kernel
// instead of reading or writing another tensor's memory (ATen's CUDA_KERNEL_ASSERT does the same).
#undef NDEBUG
#include <cassert>

namespace neuralom::detail {
namespace {

using lanes::blocks_for;
using lanes::kThreads;
using lanes::kWarp;
using lanes::vectorisable;

/// The sum of `v` over the warp, in every lane. All 32 lanes take part: the row loops below are
/// the same for the whole warp.
__device__ __forceinline__ float warp_sum(float v) {
  for (int offset = kWarp / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

__device__ __forceinline__ int lane_id() { return static_cast<int>(threadIdx.x % kWarp); }
__device__ __forceinline__ int64_t first_row() { return lanes::first_row(blockIdx.x, threadIdx.x); }
__device__ __forceinline__ int64_t row_stride() { return lanes::row_stride(gridDim.x); }

struct AtomicAdd {
  __device__ __forceinline__ void operator()(float* p, float v) const { atomicAdd(p, v); }
};

template <int kVec>
__global__ void __launch_bounds__(kThreads)
    edge_silu_kernel(const float* __restrict__ s, int64_t s_rows, const int64_t* __restrict__ src,
                     const float* __restrict__ e, const float* __restrict__ d, int64_t d_rows,
                     const int64_t* __restrict__ dst, float* __restrict__ out, int64_t edges, int64_t width) {
  assert(width % kVec == 0 && "neuralom::edge_silu: float4 rows of a width that is not a multiple of 4");
  for (int64_t i = first_row(); i < edges; i += row_stride()) {
    const int64_t a = src[i];
    const int64_t b = dst[i];
    assert(a >= 0 && a < s_rows && "neuralom::edge_silu: source index out of range");
    assert(b >= 0 && b < d_rows && "neuralom::edge_silu: destination index out of range");
    lanes::edge_silu<kVec>(s + a * width, e + i * width, d + b * width, out + i * width, width, lane_id());
  }
}

/// LayerNorm of each row of `x` (the mean, then the biased variance about it, in float32), then
/// out[r] = normed + residual[r] (kScatter false) or out[index[r]] += normed (kScatter true,
/// atomically; `out` has `out_rows` rows).
/// `out` must not overlap `x`: other warps still read rows of `x` (through the read-only cache,
/// `__restrict__`) while this one writes (layer_norm_index_add_fusable sees to it).
template <int kVec, bool kScatter>
__global__ void __launch_bounds__(kThreads)
    layer_norm_kernel(const float* __restrict__ x, const float* __restrict__ weight, const float* __restrict__ bias,
                      float eps, const float* __restrict__ residual, const int64_t* __restrict__ index, float* out,
                      int64_t out_rows, int64_t rows, int64_t width) {
  assert(width % kVec == 0 && "neuralom LayerNorm kernel: float4 rows of a width that is not a multiple of 4");
  const int lane = lane_id();
  const float n = static_cast<float>(width);
  for (int64_t r = first_row(); r < rows; r += row_stride()) {
    const float* row = x + r * width;
    const float mean = warp_sum(lanes::row_sum<kVec>(row, width, lane)) / n;
    const float inv_std = lanes::inverse_std(warp_sum(lanes::row_squares<kVec>(row, width, mean, lane)), n, eps);
    if constexpr (kScatter) {
      const int64_t node = index[r];
      assert(node >= 0 && node < out_rows && "neuralom::layer_norm_index_add_: index out of range");
      lanes::layer_norm_accumulate<kVec>(row, weight, bias, mean, inv_std, out + node * width, width, lane,
                                         AtomicAdd{});
    } else {
      lanes::layer_norm_add<kVec>(row, weight, bias, mean, inv_std, residual + r * width, out + r * width, width, lane);
    }
  }
}

template <bool kScatter>
cudaError_t launch_layer_norm(const float* x, const float* weight, const float* bias, float eps, const float* residual,
                              const int64_t* index, float* out, int64_t out_rows, int64_t rows, int64_t width,
                              cudaStream_t stream) {
  if (rows == 0 || width == 0) return cudaSuccess;
  // The scatter has no residual (nullptr, which counts as aligned).
  const bool vec = vectorisable(width, x, weight, bias, out, residual);
  if (vec) {
    layer_norm_kernel<4, kScatter>
        <<<blocks_for(rows), kThreads, 0, stream>>>(x, weight, bias, eps, residual, index, out, out_rows, rows, width);
  } else {
    layer_norm_kernel<1, kScatter>
        <<<blocks_for(rows), kThreads, 0, stream>>>(x, weight, bias, eps, residual, index, out, out_rows, rows, width);
  }
  return cudaGetLastError();
}

}  // namespace

cudaError_t launch_edge_silu(const float* s, int64_t s_rows, const int64_t* src, const float* e, const float* d,
                             int64_t d_rows, const int64_t* dst, float* out, int64_t edges, int64_t width,
                             cudaStream_t stream) {
  if (edges == 0 || width == 0) return cudaSuccess;
  if (vectorisable(width, s, e, d, out)) {
    edge_silu_kernel<4>
        <<<blocks_for(edges), kThreads, 0, stream>>>(s, s_rows, src, e, d, d_rows, dst, out, edges, width);
  } else {
    edge_silu_kernel<1>
        <<<blocks_for(edges), kThreads, 0, stream>>>(s, s_rows, src, e, d, d_rows, dst, out, edges, width);
  }
  return cudaGetLastError();
}

cudaError_t launch_layer_norm_add(const float* x, const float* weight, const float* bias, float eps,
                                  const float* residual, float* out, int64_t rows, int64_t width, cudaStream_t stream) {
  return launch_layer_norm<false>(x, weight, bias, eps, residual, nullptr, out, rows, rows, width, stream);
}

cudaError_t launch_layer_norm_index_add(const float* x, const float* weight, const float* bias, float eps,
                                        const int64_t* index, float* self, int64_t self_rows, int64_t rows,
                                        int64_t width, cudaStream_t stream) {
  return launch_layer_norm<true>(x, weight, bias, eps, nullptr, index, self, self_rows, rows, width, stream);
}

}  // namespace neuralom::detail
