// neuralom's fused operators (model/fused_kernels.h) on CUDA tensors: the same semantics as the
// CPU operators, registered for the CUDA dispatch key beside them (CUDA builds only). Tensors in
// the kernels' layout (detail/fused_op_layouts.h, all on one GPU) run the kernels of
// detail/cuda_fused_kernels on the current stream, with no synchronisation (CUDA-graph capture
// records them); anything else runs the exported operators. Results are not bit-identical to
// ATen's CUDA operators: the LayerNorm reduces in another order (float32 rounding, ~1e-7
// relative), and the scatter-sum adds atomically, in an order that varies from run to run, as
// ATen's does. Under deterministic algorithms (--deterministic) layer_norm_index_add_ runs the
// exported operators, whose index_add_ is deterministic then.
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/util/Optional.h>

namespace neuralom::detail {

at::Tensor cuda_edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                          const at::Tensor& dst);

at::Tensor cuda_layer_norm_add(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                               const c10::optional<at::Tensor>& bias, double eps, const at::Tensor& residual);

at::Tensor& cuda_layer_norm_index_add_(at::Tensor& self, const at::Tensor& index, const at::Tensor& x, int64_t width,
                                       const c10::optional<at::Tensor>& weight,
                                       const c10::optional<at::Tensor>& bias, double eps);

}  // namespace neuralom::detail
