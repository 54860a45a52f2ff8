#include "neuralom/data/stats.h"

#include <cmath>
#include <sstream>

#include "neuralom/core/errors.h"
#include "neuralom/io/npy.h"

namespace neuralom {
namespace {

std::vector<double> load_vector(const std::string& path, int64_t expected_channels) {
  const NpyInfo info = read_npy_info(path);  // float32 or float64: the reader rejects other dtypes
  int64_t non_unit_dims = 0;
  for (const auto d : info.shape) non_unit_dims += d > 1 ? 1 : 0;
  if (info.numel() != expected_channels || non_unit_dims > 1) {
    std::ostringstream s;
    s << path << ": shape " << info.shape_string() << ", expected " << expected_channels
      << " channel values, e.g. [1, " << expected_channels << ", 1, 1]";
    throw InputError(s.str());
  }
  // One dimension at most exceeds 1, so C and Fortran order are the same bytes.
  std::vector<double> values(static_cast<std::size_t>(info.numel()));
  NpyReader(path).read(0, info.numel(), values.data());
  return values;
}

}  // namespace

NormStats NormStats::select(const std::vector<int64_t>& channels) const {
  NormStats out;
  out.mean_path = mean_path;
  out.std_path = std_path;
  for (const auto c : channels) {
    out.mean.push_back(mean.at(static_cast<std::size_t>(c)));
    out.std.push_back(std.at(static_cast<std::size_t>(c)));
  }
  return out;
}

NormStats load_norm_stats(const std::string& mean_path, const std::string& std_path, int64_t expected_channels) {
  NormStats stats;
  stats.mean_path = mean_path;
  stats.std_path = std_path;
  stats.mean = load_vector(mean_path, expected_channels);
  stats.std = load_vector(std_path, expected_channels);
  for (std::size_t c = 0; c < stats.mean.size(); ++c) {
    if (!std::isfinite(stats.mean[c])) {
      throw InputError(mean_path + ": channel " + std::to_string(c) + " has a non-finite mean");
    }
    if (!std::isfinite(stats.std[c]) || stats.std[c] <= 0.0) {
      std::ostringstream s;
      s << std_path << ": channel " << c << " has standard deviation " << stats.std[c]
        << ", expected a finite positive value";
      throw InputError(s.str());
    }
  }
  return stats;
}

}  // namespace neuralom
