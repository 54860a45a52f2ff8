// Normalisation statistics: per-channel mean and standard deviation (`mean_s_t_ssh.npy`,
// `std_s_t_ssh.npy`, `[1, 97, 1, 1]` float64; `mean_atmos.npy`, `std_atmos.npy`, `[1, 69, 1, 1]`).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace neuralom {

struct NormStats {
  std::string mean_path;
  std::string std_path;
  std::vector<double> mean;  ///< per channel, in the data's physical units
  std::vector<double> std;   ///< per channel, > 0 for the channels used

  /// Channels the statistics hold (the shorter of the two files).
  int64_t channels() const { return static_cast<int64_t>(std::min(mean.size(), std.size())); }
  /// The statistics of a subset of channels, in the given order.
  NormStats select(const std::vector<int64_t>& channels) const;
};

/// Loads a mean/std pair for the data channels `used`. Each file must hold float values in a
/// shape like `[1, C, 1, 1]` (any shape whose only dimension > 1 is C; C = 1 too) with C greater
/// than every channel in `used`: as the reference indexes them (`mean[:, in_channels]`), the
/// statistics may hold more channels than are used, or than the data file has. The mean of every
/// used channel must be finite and its std finite and > 0; the values of other channels are never
/// read. Throws InputError naming the file, the shape found and the channel it lacks.
NormStats load_norm_stats(const std::string& mean_path, const std::string& std_path,
                          const std::vector<int64_t>& used);

/// The channels `0, 1, ..., n - 1`.
std::vector<int64_t> first_channels(int64_t n);

}  // namespace neuralom
