// What neuralom's fused operators (model/fused_kernels.h) share between their CPU and CUDA
// kernels: the tensor layouts a kernel takes, and the exported operator sequences each one
// replaces, which run instead for any other layout (bf16, broadcasting, mixed devices) and are
// the reference the kernels are tested against.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>
#include <ATen/MemoryOverlap.h>

namespace neuralom::detail {

/// Defined, on `device`, of `dtype` and contiguous.
inline bool contiguous_on(const at::Tensor& t, at::ScalarType dtype, const c10::Device& device) {
  return t.defined() && t.device() == device && t.scalar_type() == dtype && t.is_contiguous();
}

/// [rows, width] float32.
inline bool float_rows(const at::Tensor& t, int64_t width, const c10::Device& device) {
  return contiguous_on(t, at::kFloat, device) && t.dim() == 2 && t.size(1) == width;
}

/// [length] of `dtype`.
inline bool vector_of(const at::Tensor& t, at::ScalarType dtype, int64_t length, const c10::Device& device) {
  return contiguous_on(t, dtype, device) && t.dim() == 1 && t.size(0) == length;
}

/// The layout of neuralom::edge_silu's kernels: `s` [N_s, H], `e` [E, H], `d` [N_d, H] float32
/// and `src`, `dst` [E] int64, all on `device`.
inline bool edge_silu_fusable(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                              const at::Tensor& dst, const c10::Device& device) {
  const int64_t width = e.dim() == 2 ? e.size(1) : -1;
  return float_rows(s, width, device) && float_rows(e, width, device) && float_rows(d, width, device) &&
         vector_of(src, at::kLong, e.size(0), device) && vector_of(dst, at::kLong, e.size(0), device);
}

/// The layout of the LayerNorm kernels: a LayerNorm over the last dimension, of size `width`, of
/// a contiguous float32 tensor on `device`, with float32 weight and bias [width].
inline bool layer_norm_fusable(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                               const c10::optional<at::Tensor>& bias, const c10::Device& device) {
  return contiguous_on(x, at::kFloat, device) && x.dim() >= 1 && x.size(-1) == width && weight.has_value() &&
         vector_of(*weight, at::kFloat, width, device) && bias.has_value() &&
         vector_of(*bias, at::kFloat, width, device);
}

/// The layout of neuralom::layer_norm_add's kernels: layer_norm_fusable, and a float32 residual
/// of x's shape, contiguous on `device`.
inline bool layer_norm_add_fusable(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                                   const c10::optional<at::Tensor>& bias, const at::Tensor& residual,
                                   const c10::Device& device) {
  return layer_norm_fusable(x, width, weight, bias, device) && contiguous_on(residual, at::kFloat, device) &&
         residual.sizes() == x.sizes();
}

/// Whether `out` shares no memory with any of `inputs`. A kernel that writes `out` while it still
/// reads them needs that; the exported sequences read all of an input before they write.
template <typename... Tensors>
bool apart(const at::Tensor& out, const Tensors&... inputs) {
  return ((at::get_overlap_status(out, inputs) == at::MemOverlapStatus::No) && ...);
}

/// The layout of neuralom::layer_norm_index_add_'s kernels: layer_norm_fusable of a 2-D `x`
/// [E, width], `self` [N, width] float32 and `index` [E] int64, all on `device`, with `self`
/// apart from the others (the kernels add into it block by block, or warp by warp, while other
/// rows of `x` are still to be normalised: x.index_add_(0, i, layer_norm(x)) takes the exported
/// sequence).
inline bool layer_norm_index_add_fusable(const at::Tensor& self, const at::Tensor& index, const at::Tensor& x,
                                         int64_t width, const c10::optional<at::Tensor>& weight,
                                         const c10::optional<at::Tensor>& bias, const c10::Device& device) {
  return layer_norm_fusable(x, width, weight, bias, device) && x.dim() == 2 && float_rows(self, width, device) &&
         vector_of(index, at::kLong, x.size(0), device) && apart(self, x, index, *weight, *bias);
}

// The exported sequences.

inline at::Tensor unfused_edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e,
                                    const at::Tensor& d, const at::Tensor& dst) {
  return at::silu_(s.index_select(0, src).add_(e).add_(d.index_select(0, dst)));
}

inline at::Tensor unfused_layer_norm(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                                     const c10::optional<at::Tensor>& bias, double eps) {
  return at::layer_norm(x, {width}, weight, bias, eps, /*cudnn_enable=*/false);  // which ATen ignores
}

inline at::Tensor unfused_layer_norm_add(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                                         const c10::optional<at::Tensor>& bias, double eps,
                                         const at::Tensor& residual) {
  return unfused_layer_norm(x, width, weight, bias, eps).add_(residual);
}

inline at::Tensor& unfused_layer_norm_index_add_(at::Tensor& self, const at::Tensor& index, const at::Tensor& x,
                                                 int64_t width, const c10::optional<at::Tensor>& weight,
                                                 const c10::optional<at::Tensor>& bias, double eps) {
  return self.index_add_(0, index, unfused_layer_norm(x, width, weight, bias, eps));
}

}  // namespace neuralom::detail
