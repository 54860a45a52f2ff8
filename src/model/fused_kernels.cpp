#include "neuralom/model/fused_kernels.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

namespace neuralom {
namespace {

bool cpu_contiguous(const at::Tensor& t, at::ScalarType dtype) {
  return t.defined() && t.device().is_cpu() && t.scalar_type() == dtype && t.is_contiguous();
}

/// [rows, width] float32.
bool cpu_float_rows(const at::Tensor& t, int64_t width) {
  return cpu_contiguous(t, at::kFloat) && t.dim() == 2 && t.size(1) == width;
}

/// [length] of `dtype`.
bool cpu_vector(const at::Tensor& t, at::ScalarType dtype, int64_t length) {
  return cpu_contiguous(t, dtype) && t.dim() == 1 && t.size(0) == length;
}

bool edge_silu_fusable(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                       const at::Tensor& dst) {
  const int64_t width = e.dim() == 2 ? e.size(1) : -1;
  return cpu_float_rows(s, width) && cpu_float_rows(e, width) && cpu_float_rows(d, width) &&
         cpu_vector(src, at::kLong, e.size(0)) && cpu_vector(dst, at::kLong, e.size(0));
}

/// A LayerNorm over the last dimension, of size `width`, of a contiguous float32 CPU tensor, with
/// weight and bias.
bool layer_norm_fusable(const at::Tensor& x, int64_t width, const c10::optional<at::Tensor>& weight,
                        const c10::optional<at::Tensor>& bias) {
  return cpu_contiguous(x, at::kFloat) && x.dim() >= 1 && x.size(-1) == width && weight.has_value() &&
         cpu_vector(*weight, at::kFloat, width) && bias.has_value() && cpu_vector(*bias, at::kFloat, width);
}

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
    // cudnn_enable does not matter on the CPU.
    const at::Tensor normed = at::layer_norm(x.narrow(0, begin, count), {width}, weight, bias, eps,
                                             /*cudnn_enable=*/false);
    consume(begin, count, normed);
  }
}

constexpr FusedOperatorNames kNames{"neuralom::edge_silu", "neuralom::layer_norm_add",
                                    "neuralom::layer_norm_index_add_"};

}  // namespace

const FusedOperatorNames& fused_operator_names() { return kNames; }

at::Tensor edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                     const at::Tensor& dst) {
  if (!edge_silu_fusable(s, src, e, d, dst)) {
    return at::silu_(s.index_select(0, src).add_(e).add_(d.index_select(0, dst)));
  }
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
  if (!layer_norm_fusable(x, width, weight, bias) || !cpu_contiguous(residual, at::kFloat) ||
      residual.sizes() != x.sizes()) {
    return at::layer_norm(x, {width}, weight, bias, eps, /*cudnn_enable=*/false).add_(residual);
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
  const bool fusable = layer_norm_fusable(x, width, weight, bias) && x.dim() == 2 && cpu_float_rows(self, width) &&
                       cpu_vector(index, at::kLong, x.size(0));
  if (!fusable) {
    return self.index_add_(0, index, at::layer_norm(x, {width}, weight, bias, eps, /*cudnn_enable=*/false));
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
