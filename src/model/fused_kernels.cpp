#include "neuralom/model/fused_kernels.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "model/detail/fused_op_layouts.h"
#if NEURALOM_WITH_CUDA
#include "model/detail/cuda_fused_ops.h"
#endif

namespace neuralom {
namespace {

using detail::unfused_edge_silu;
using detail::unfused_layer_norm;

const c10::Device kCpu{c10::kCPU};

void check_indices(const at::Tensor& index, int64_t rows, const char* op, const char* what) {
  if (index.numel() == 0) return;
  const int64_t* p = index.data_ptr<int64_t>();
  const auto [lo, hi] = std::minmax_element(p, p + index.numel());
  TORCH_CHECK(*lo >= 0 && *hi < rows, op, ": ", what, " index out of range [0, ", rows, "): ", *lo, "..", *hi);
}

/// Calls `consume(begin, rows, normed)` for consecutive blocks of kLayerNormBlockRows rows of the
/// [rows, H] tensor `x`, `normed` being ATen's LayerNorm of that block.
template <typename Consume>
void for_each_normalised_block(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                               const c10::optional<at::Tensor>& bias, double eps, Consume consume) {
  const int64_t rows = x.size(0);
  for (int64_t begin = 0; begin < rows; begin += kLayerNormBlockRows) {
    const int64_t count = std::min(kLayerNormBlockRows, rows - begin);
    const at::Tensor normed = unfused_layer_norm(x.narrow(0, begin, count), width, weight, bias, eps);
    consume(begin, count, normed);
  }
}

constexpr FusedOperatorNames kNames{"neuralom::edge_silu", "neuralom::layer_norm_add",
                                    "neuralom::layer_norm_index_add_"};

}  // namespace

const FusedOperatorNames& fused_operator_names() { return kNames; }

at::Tensor edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                     const at::Tensor& dst) {
  if (!detail::edge_silu_fusable(s, src, e, d, dst, kCpu)) return unfused_edge_silu(s, src, e, d, dst);
  check_indices(src, s.size(0), kNames.edge_silu, "source");
  check_indices(dst, d.size(0), kNames.edge_silu, "destination");
  const int64_t edges = e.size(0);
  const int64_t width = e.size(1);
  at::Tensor out = at::empty({edges, width}, e.options());
  const float* sp = s.data_ptr<float>();
  const float* ep = e.data_ptr<float>();
  const float* dp = d.data_ptr<float>();
  const int64_t* srcp = src.data_ptr<int64_t>();
  const int64_t* dstp = dst.data_ptr<int64_t>();
  float* op = out.data_ptr<float>();
  for (int64_t begin = 0; begin < edges; begin += kEdgeSiluBlockRows) {
    const int64_t end = std::min(edges, begin + kEdgeSiluBlockRows);
    at::parallel_for(begin, end, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float* a = sp + srcp[i] * width;
        const float* x = ep + i * width;
        const float* b = dp + dstp[i] * width;
        float* o = op + i * width;
        // The unfused order: (s[src] + e), then + d[dst].
        for (int64_t j = 0; j < width; ++j) o[j] = (a[j] + x[j]) + b[j];
      }
    });
    at::Tensor block = out.narrow(0, begin, end - begin);
    at::silu_(block);
  }
  return out;
}

at::Tensor layer_norm_add(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                          const c10::optional<at::Tensor>& bias, double eps, const at::Tensor& residual) {
  if (!detail::layer_norm_add_fusable(x, width, weight, bias, residual, kCpu)) {
    return detail::unfused_layer_norm_add(x, width, weight, bias, eps, residual);
  }
  const int64_t rows = width == 0 ? 0 : x.numel() / width;
  at::Tensor out = at::empty(x.sizes(), x.options());
  const at::Tensor x2 = x.view({rows, width});
  const at::Tensor r2 = residual.view({rows, width});
  const at::Tensor o2 = out.view({rows, width});
  for_each_normalised_block(x2, width, weight, bias, eps,
                            [&](int64_t begin, int64_t count, const at::Tensor& normed) {
                              at::Tensor o = o2.narrow(0, begin, count);
                              at::add_out(o, normed, r2.narrow(0, begin, count));
                            });
  return out;
}

at::Tensor& layer_norm_index_add_(at::Tensor& self, const at::Tensor& index, const at::Tensor& x, int64_t width,
                                  const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias,
                                  double eps) {
  if (!detail::layer_norm_index_add_fusable(self, index, x, width, weight, bias, kCpu)) {
    return detail::unfused_layer_norm_index_add_(self, index, x, width, weight, bias, eps);
  }
  check_indices(index, self.size(0), kNames.layer_norm_index_add, "destination");
  for_each_normalised_block(x, width, weight, bias, eps,
                            [&](int64_t begin, int64_t count, const at::Tensor& normed) {
                              self.index_add_(0, index.narrow(0, begin, count), normed);
                            });
  return self;
}

}  // namespace neuralom

TORCH_LIBRARY(neuralom, m) {
  m.def("edge_silu(Tensor s, Tensor src, Tensor e, Tensor d, Tensor dst) -> Tensor");
  // `width` instead of LayerNorm's int[] normalized_shape: {width} (LibTorch's boxing of int[]
  // arguments trips GCC's -Wnull-dereference).
  m.def("layer_norm_add(Tensor input, int width, Tensor? weight, Tensor? bias, float eps, Tensor residual) -> Tensor");
  m.def("layer_norm_index_add_(Tensor(a!) self, Tensor index, Tensor input, int width, Tensor? weight, Tensor? bias, "
        "float eps) -> Tensor(a!)");
}

TORCH_LIBRARY_IMPL(neuralom, CPU, m) {
  m.impl("edge_silu", &neuralom::edge_silu);
  m.impl("layer_norm_add", &neuralom::layer_norm_add);
  m.impl("layer_norm_index_add_", &neuralom::layer_norm_index_add_);
}

#if NEURALOM_WITH_CUDA
TORCH_LIBRARY_IMPL(neuralom, CUDA, m) {
  m.impl("edge_silu", &neuralom::detail::cuda_edge_silu);
  m.impl("layer_norm_add", &neuralom::detail::cuda_layer_norm_add);
  m.impl("layer_norm_index_add_", &neuralom::detail::cuda_layer_norm_index_add_);
}
#endif
