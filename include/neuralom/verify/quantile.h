// Exact quantiles of a large weighted set of float32 values in bounded memory, in two passes over
// the data: the streaming engine never holds a year of fields, so it cannot sort them.
//
// Pass 1 counts the values in 65 536 bins by the top 16 bits of an order-preserving integer image
// of each float; the bins that hold the wanted order statistics are then known. Pass 2 counts the
// values of those bins alone by their low 16 bits: every float has its own counter, so the order
// statistics are exact. Memory: 512 KiB plus 512 KiB per bin needed (two per probability at most).
//
// The result is NumPy's default quantile (`numpy.quantile(x, q)`, method "linear") of the
// multiset in which each value appears `weight` times: with n values sorted ascending,
// i = (n−1)·q, lo = ⌊i⌋, γ = i − lo, result = x[lo] + (x[lo+1] − x[lo])·γ, computed as NumPy does
// (from the upper end when γ ≥ ½). NaN values are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

namespace neuralom {

class TwoPassQuantiles {
 public:
  /// `probabilities` in [0, 1].
  explicit TwoPassQuantiles(std::vector<double> probabilities);

  /// Pass 1: counts `n` values, each `weight` times; `include` (nullable) selects them.
  void count(const float* values, const bool* include, std::size_t n, int64_t weight);
  /// Ends pass 1. Afterwards feed exactly the same values again to collect().
  void start_second_pass();
  /// Pass 2.
  void collect(const float* values, const bool* include, std::size_t n, int64_t weight);

  /// Values counted in pass 1 (with their weights).
  int64_t total() const { return total_; }
  /// The quantiles, one per probability, after pass 2; NaN if no value was counted.
  std::vector<double> result() const;

 private:
  /// The value of the 0-based order statistic `rank`, from the pass-2 counts.
  double order_statistic(int64_t rank) const;

  std::vector<double> probabilities_;
  std::vector<int64_t> coarse_;                   // [65536] pass-1 counts by top 16 bits
  std::map<uint32_t, std::vector<int64_t>> fine_;  // bin -> [65536] pass-2 counts by low 16 bits
  std::map<uint32_t, int64_t> bin_start_;         // bin -> rank of its first value
  int64_t total_ = 0;
  bool second_pass_ = false;
};

}  // namespace neuralom
