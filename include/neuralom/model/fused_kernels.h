// Native fused CPU kernels for the exported networks' memory-bound steps. model/kernel_fusion
// puts them into a loaded TorchScript module; each computes exactly what the operators it
// replaces compute, with ATen's own kernels on blocks of rows that stay in cache between steps.
//
// * edge_silu: every edge MLP starts with  h = silu((s[src] + e) + d[dst]):  two gathers of node
//   projections onto the edges, two in-place adds and an in-place SiLU, five passes over an
//   [E, H] chunk. One pass per block of rows here (gather and sum straight into the output; the
//   SiLU while the block is in cache), with the same float32 additions in the same order. The
//   SiLU is ATen's own, applied block by block: where that splits the work differently from one
//   SiLU over the whole chunk, an element may take ATen's scalar path instead of its vector path
//   or the reverse, and those differ by up to 2.2e-7 relative (about 2 ulp; measured on 700,000
//   values).
// * layer_norm_add, layer_norm_index_add_: every MLP ends with a LayerNorm whose output is used
//   once, by a residual sum (x <- MLP(.) + x) or by the scatter-sum of edge messages onto their
//   destination nodes (the encoder's and the decoder's aggregation). The LayerNorm of a block of
//   rows is consumed while it is in cache instead of being written out whole and read back. Both
//   are bit-identical to the unfused operators: ATen's LayerNorm normalises each row on its own,
//   and its scatter-sum adds the rows in edge order, block after block.
//
// All of them take float32 CPU tensors, contiguous, with the layouts below; anything else (bf16,
// other devices, broadcasting) takes the unfused ATen operators. Index tensors are checked
// (c10::Error when out of range) before anything is written.
//
// A CUDA build registers the same operators for CUDA tensors (model/detail/cuda_fused_ops.h: one
// kernel per operator, within float32 rounding of ATen's CUDA operators, not bit-identical);
// the functions below are the CPU ones.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

namespace neuralom {

/// Rows per block of neuralom::edge_silu: the block's output (4096 x 432 floats = 7 MiB at full
/// size) is still in the last-level cache when the SiLU runs over it.
constexpr int64_t kEdgeSiluBlockRows = 4096;

/// Rows per block of the LayerNorm kernels: 1024 x 432 floats (1.7 MiB at full size) are still in
/// cache when the consumer reads them (measured on a 103,563 x 432 chunk, 2 threads: 256 to 16384
/// rows take the same time within 10 %; docs/performance.md, fourth round).
constexpr int64_t kLayerNormBlockRows = 1024;

/// silu((s[src] + e) + d[dst]) as a new tensor: `s` [N_s, H], `d` [N_d, H], `e` [E, H] float32,
/// `src`, `dst` [E] int64 (indices checked: c10::Error if out of range).
at::Tensor edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                     const at::Tensor& dst);

// The LayerNorms below normalise over the last dimension, of size `width` (their
// normalized_shape is {width}; the rewritten graphs pass the one element of the exported list).

/// layer_norm(x, {width}, weight, bias, eps) + residual as a new tensor: `x` and `residual`
/// [..., width] float32 of the same shape, `weight`, `bias` [width].
at::Tensor layer_norm_add(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                          const c10::optional<at::Tensor>& bias, double eps, const at::Tensor& residual);

/// self.index_add_(0, index, layer_norm(x, {width}, weight, bias, eps)); returns `self`.
/// `self` [N, width], `x` [E, width] float32, `index` [E] int64 in [0, N) (checked before
/// anything is added: c10::Error if out of range), `weight`, `bias` [width].
at::Tensor& layer_norm_index_add_(at::Tensor& self, const at::Tensor& index, const at::Tensor& x, int64_t width,
                                  const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                                  double eps);

/// The names under which these operators are registered with the dispatcher (what a rewritten
/// TorchScript graph calls). Defined beside the registration, so that code that refers to them
/// links the registration in.
struct FusedOperatorNames {
  const char* edge_silu;
  const char* layer_norm_add;
  const char* layer_norm_index_add;
};
const FusedOperatorNames& fused_operator_names();

}  // namespace neuralom
