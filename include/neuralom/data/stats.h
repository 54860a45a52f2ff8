// Normalisation statistics: per-channel mean and standard deviation (`mean_s_t_ssh.npy`,
// `std_s_t_ssh.npy`, `[1, 97, 1, 1]` float64; `mean_atmos.npy`, `std_atmos.npy`, `[1, 69, 1, 1]`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuralom {

struct NormStats {
  std::string mean_path;
  std::string std_path;
  std::vector<double> mean;  ///< per channel, in the data's physical units
  std::vector<double> std;   ///< per channel, > 0

  int64_t channels() const { return static_cast<int64_t>(mean.size()); }
  /// The statistics of a subset of channels, in the given order.
  NormStats select(const std::vector<int64_t>& channels) const;
};

/// Loads a mean/std pair. Each file must hold float32 or float64 values for `expected_channels`
/// channels in a shape like `[1, C, 1, 1]` (any shape whose only dimension > 1 is C; C = 1 too).
/// Every std must be finite and > 0 and every mean finite. Throws InputError naming the file,
/// the shape found and the expected channel count.
NormStats load_norm_stats(const std::string& mean_path, const std::string& std_path, int64_t expected_channels);

}  // namespace neuralom
