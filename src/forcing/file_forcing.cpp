#include "neuralom/forcing/file_forcing.h"

#include <ATen/ATen.h>

namespace neuralom {
namespace {

bool is_contiguous_range(const std::vector<int64_t>& v) {
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] != v[0] + static_cast<int64_t>(i)) return false;
  }
  return !v.empty();
}

}  // namespace

FileForcing::FileForcing(std::vector<int64_t> channels, c10::Device device)
    : channels_(std::move(channels)),
      index_(at::tensor(channels_, at::kLong).to(device)),
      first_(channels_.empty() ? 0 : channels_.front()),
      contiguous_(is_contiguous_range(channels_)) {}

void FileForcing::begin(const std::vector<int64_t>& /*ics*/) {}

at::Tensor FileForcing::select(const at::Tensor& z) const {
  if (contiguous_) return z.narrow(1, first_, static_cast<int64_t>(channels_.size()));
  return z.index_select(1, index_);
}

std::pair<at::Tensor, at::Tensor> FileForcing::pair(int64_t /*step*/, const at::Tensor& z_prev,
                                                    const at::Tensor& z_next) {
  return {select(z_prev), select(z_next)};
}

}  // namespace neuralom
