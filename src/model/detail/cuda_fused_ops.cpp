#include "model/detail/cuda_fused_ops.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "model/detail/cuda_fused_kernels.h"
#include "model/detail/fused_op_layouts.h"

namespace neuralom::detail {
namespace {

cudaStream_t current_stream(const c10::Device& device) {
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
}

}  // namespace

at::Tensor cuda_edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                          const at::Tensor& dst) {
  const c10::Device device = e.device();
  if (!device.is_cuda() || !edge_silu_fusable(s, src, e, d, dst, device)) return unfused_edge_silu(s, src, e, d, dst);
  const c10::cuda::CUDAGuard guard(device);
  at::Tensor out = at::empty(e.sizes(), e.options());
  C10_CUDA_CHECK(launch_edge_silu(s.data_ptr<float>(), s.size(0), src.data_ptr<int64_t>(), e.data_ptr<float>(),
                                  d.data_ptr<float>(), d.size(0), dst.data_ptr<int64_t>(), out.data_ptr<float>(),
                                  e.size(0), e.size(1), current_stream(device)));
  return out;
}

at::Tensor cuda_layer_norm_add(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                               const c10::optional<at::Tensor>& bias, double eps, const at::Tensor& residual) {
  const c10::Device device = x.device();
  if (!device.is_cuda() || !layer_norm_add_fusable(x, width, weight, bias, residual, device)) {
    return unfused_layer_norm_add(x, width, weight, bias, eps, residual);
  }
  const c10::cuda::CUDAGuard guard(device);
  at::Tensor out = at::empty(x.sizes(), x.options());
  const int64_t rows = width == 0 ? 0 : x.numel() / width;
  C10_CUDA_CHECK(launch_layer_norm_add(x.data_ptr<float>(), weight->data_ptr<float>(), bias->data_ptr<float>(),
                                       static_cast<float>(eps), residual.data_ptr<float>(), out.data_ptr<float>(),
                                       rows, width, current_stream(device)));
  return out;
}

at::Tensor& cuda_layer_norm_index_add_(at::Tensor& self, const at::Tensor& index, const at::Tensor& x, int64_t width,
                                       const c10::optional<at::Tensor>& weight,
                                       const c10::optional<at::Tensor>& bias, double eps) {
  const c10::Device device = x.device();
  // Under deterministic algorithms ATen's index_add_ has no atomics; the kernel's would.
  if (!device.is_cuda() || at::globalContext().deterministicAlgorithms() ||
      !layer_norm_index_add_fusable(self, index, x, width, weight, bias, device)) {
    return unfused_layer_norm_index_add_(self, index, x, width, weight, bias, eps);
  }
  const c10::cuda::CUDAGuard guard(device);
  C10_CUDA_CHECK(launch_layer_norm_index_add(x.data_ptr<float>(), weight->data_ptr<float>(), bias->data_ptr<float>(),
                                             static_cast<float>(eps), index.data_ptr<int64_t>(),
                                             self.data_ptr<float>(), self.size(0), x.size(0), width,
                                             current_stream(device)));
  return self;
}

}  // namespace neuralom::detail
