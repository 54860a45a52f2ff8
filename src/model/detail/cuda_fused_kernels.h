// The CUDA kernels behind neuralom's fused operators on a GPU (model/fused_kernels.h says what
// each operator computes; detail/cuda_fused_ops.cpp checks the tensors and calls these). Plain
// CUDA on raw device pointers, so that nvcc never parses LibTorch's headers.
//
// Every pointer is a device pointer to contiguous row-major float32 (int64 for indices) data on
// the current device; rows of `width` floats. Each function enqueues one kernel on `stream` and
// returns the launch's status (cudaSuccess, or the error of the launch). An index out of range
// fails the kernel with a device-side assertion, as ATen's own gathers and scatters do: the CUDA
// context is then unusable and the next synchronisation reports the error.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace neuralom::detail {

/// out[i] = silu((s[src[i]] + e[i]) + d[dst[i]]) for the `edges` rows of `e`; `s` has `s_rows`
/// rows, `d` has `d_rows`.
cudaError_t launch_edge_silu(const float* s, int64_t s_rows, const int64_t* src, const float* e, const float* d,
                             int64_t d_rows, const int64_t* dst, float* out, int64_t edges, int64_t width,
                             cudaStream_t stream);

/// out[r] = layer_norm(x[r]) * weight + bias + residual[r] for `rows` rows (biased variance, eps
/// added to it).
cudaError_t launch_layer_norm_add(const float* x, const float* weight, const float* bias, float eps,
                                  const float* residual, float* out, int64_t rows, int64_t width, cudaStream_t stream);

/// self[index[r]] += layer_norm(x[r]) * weight + bias for `rows` rows, by atomic additions (the
/// order of the additions onto a node varies from run to run, as in ATen's index_add_); `self`
/// has `self_rows` rows.
cudaError_t launch_layer_norm_index_add(const float* x, const float* weight, const float* bias, float eps,
                                        const int64_t* index, float* self, int64_t self_rows, int64_t rows,
                                        int64_t width, cudaStream_t stream);

}  // namespace neuralom::detail
