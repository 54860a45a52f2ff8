#include "neuralom/data/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "neuralom/core/errors.h"
#include "neuralom/io/npy.h"

namespace neuralom {
namespace {

/// The values of a `[1, C, 1, 1]`-like file; C must exceed `highest`, the highest channel used.
std::vector<double> load_vector(const std::string& path, int64_t highest) {
  const NpyInfo info = read_npy_info(path);  // float16/32/64: the reader rejects other dtypes
  int64_t non_unit_dims = 0;
  for (const auto d : info.shape) non_unit_dims += d > 1 ? 1 : 0;
  if (non_unit_dims > 1) {
    std::ostringstream s;
    s << path << ": shape " << info.shape_string() << ", expected one value per channel, e.g. [1, "
      << highest + 1 << ", 1, 1]";
    throw InputError(s.str());
  }
  if (info.numel() <= highest) {
    std::ostringstream s;
    s << path << ": shape " << info.shape_string() << " holds " << info.numel() << " channel values, but channel "
      << highest << " is used (expected at least " << highest + 1 << ", e.g. [1, " << highest + 1 << ", 1, 1])";
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

NormStats load_norm_stats(const std::string& mean_path, const std::string& std_path,
                          const std::vector<int64_t>& used) {
  if (used.empty() || *std::min_element(used.begin(), used.end()) < 0) {
    throw std::invalid_argument("load_norm_stats: the channels used must be a non-empty list of indices >= 0");
  }
  const int64_t highest = *std::max_element(used.begin(), used.end());
  NormStats stats;
  stats.mean_path = mean_path;
  stats.std_path = std_path;
  stats.mean = load_vector(mean_path, highest);
  stats.std = load_vector(std_path, highest);
  for (const int64_t channel : used) {
    const auto c = static_cast<std::size_t>(channel);
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

std::vector<int64_t> first_channels(int64_t n) {
  std::vector<int64_t> channels(static_cast<std::size_t>(std::max<int64_t>(n, 0)));
  std::iota(channels.begin(), channels.end(), int64_t{0});
  return channels;
}

}  // namespace neuralom
