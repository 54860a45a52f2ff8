#include "neuralom/data/normaliser.h"

#include <cmath>
#include <stdexcept>
#include <string>

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
  // NumPy's promotion of X − C: float16 − float16 stays float16 (c10::Half rounds the float32
  // difference to float16, as NumPy's float16 subtraction does), float16 − float32 is float32, ...
  const auto with_type = [](at::ScalarType t, const char* what, auto&& f) {
    switch (t) {
      case at::kHalf: return f(c10::Half{});
      case at::kFloat: return f(float{});
      case at::kDouble: return f(double{});
      default: throw std::invalid_argument(std::string("normalise_day: ") + what + " must be float16/32/64");
    }
  };
  with_type(x.scalar_type(), "x", [&](auto tx) {
    using TX = decltype(tx);
    if (!c.defined()) return normalise_all<TX, TX>(x, c, stats, out);  // the second type is unused
    with_type(c.scalar_type(), "the climatology", [&](auto tc) { normalise_all<TX, decltype(tc)>(x, c, stats, out); });
  });
  return out;
}

at::Tensor denormalise(const at::Tensor& x, const at::Tensor& mean, const at::Tensor& std) {
  const int64_t n = mean.size(0);
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  shape[shape.size() - 3] = n;
  return x.to(at::kDouble).mul_(std.view(shape)).add_(mean.view(shape));
}

}  // namespace neuralom
