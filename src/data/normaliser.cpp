#include "neuralom/data/normaliser.h"

#include <cmath>
#include <stdexcept>

#include <ATen/ATen.h>

namespace neuralom {
namespace {

// One channel plane. A is the type of X − C (NumPy's promotion of the two element types).
template <typename TX, typename TC>
void normalise_plane(const TX* x, const TC* c, int64_t n, double mean, double std, float* out) {
  using TA = decltype(TX{} - TC{});
  for (int64_t i = 0; i < n; ++i) {
    const TA a = c != nullptr ? static_cast<TA>(static_cast<TA>(x[i]) - static_cast<TA>(c[i])) : static_cast<TA>(x[i]);
    double z = (static_cast<double>(a) - mean) / std;
    if (std::isnan(z)) z = 0.0;
    out[i] = static_cast<float>(z);
  }
}

template <typename TX, typename TC>
void normalise_all(const at::Tensor& x, const at::Tensor& c, const NormStats& stats, at::Tensor& out) {
  const int64_t channels = x.size(0);
  const int64_t plane = x.size(1) * x.size(2);
  const TX* xp = x.data_ptr<TX>();
  const TC* cp = c.defined() ? c.data_ptr<TC>() : nullptr;
  float* op = out.data_ptr<float>();
  for (int64_t ch = 0; ch < channels; ++ch) {
    const auto k = static_cast<std::size_t>(ch);
    normalise_plane<TX, TC>(xp + ch * plane, cp != nullptr ? cp + ch * plane : nullptr, plane, stats.mean[k],
                            stats.std[k], op + ch * plane);
  }
}

}  // namespace

at::Tensor normalise_day(const at::Tensor& x_in, const at::Tensor& clim_in, const NormStats& stats,
                         bool pin_memory) {
  if (x_in.dim() != 3 || x_in.size(0) != stats.channels()) {
    throw std::invalid_argument("normalise_day: x must be [n, H, W] with n = number of statistics channels");
  }
  if (clim_in.defined() && clim_in.sizes() != x_in.sizes()) {
    throw std::invalid_argument("normalise_day: climatology and data shapes differ");
  }
  const at::Tensor x = x_in.contiguous();
  const at::Tensor c = clim_in.defined() ? clim_in.contiguous() : at::Tensor();
  at::Tensor out = at::empty(x.sizes(), at::TensorOptions().dtype(at::kFloat).pinned_memory(pin_memory));
  const bool x64 = x.scalar_type() == at::kDouble;
  const bool c64 = c.defined() && c.scalar_type() == at::kDouble;
  if (x.scalar_type() != at::kFloat && !x64) throw std::invalid_argument("normalise_day: x must be float32/float64");
  if (c.defined() && c.scalar_type() != at::kFloat && !c64) {
    throw std::invalid_argument("normalise_day: climatology must be float32/float64");
  }
  if (x64 && c64) {
    normalise_all<double, double>(x, c, stats, out);
  } else if (x64) {
    normalise_all<double, float>(x, c, stats, out);  // with no climatology the second type is unused
  } else if (c64) {
    normalise_all<float, double>(x, c, stats, out);
  } else {
    normalise_all<float, float>(x, c, stats, out);
  }
  return out;
}

at::Tensor denormalise(const at::Tensor& x, const at::Tensor& mean, const at::Tensor& std) {
  const int64_t n = mean.size(0);
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[shape.size() - 3] = n;
  return x.to(at::kDouble).mul_(std.view(shape)).add_(mean.view(shape));
}

}  // namespace neuralom
