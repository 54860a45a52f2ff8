#include "neuralom/verify/quantile.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace neuralom {
namespace {

constexpr uint32_t kBins = 1U << 16;

/// An integer with the order of the floats: negative floats reversed below the positive ones.
uint32_t order_key(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  return (u & 0x80000000U) != 0 ? ~u : (u | 0x80000000U);
}

float from_order_key(uint32_t key) {
  const uint32_t u = (key & 0x80000000U) != 0 ? (key & 0x7fffffffU) : ~key;
  float v = 0.0F;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

/// NumPy's rank positions for method "linear".
struct Position {
  int64_t lo = 0;
  int64_t hi = 0;
  double gamma = 0.0;
};

Position position(int64_t n, double q) {
  const double index = static_cast<double>(n - 1) * q;
  Position p;
  p.lo = static_cast<int64_t>(std::floor(index));
  p.gamma = index - static_cast<double>(p.lo);
  if (p.lo < 0) p.lo = 0;
  if (p.lo > n - 1) p.lo = n - 1;
  p.hi = std::min(p.lo + 1, n - 1);
  return p;
}

/// NumPy's _lerp: a + (b − a)·t, or b − (b − a)·(1 − t) when t ≥ ½.
double lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

}  // namespace

TwoPassQuantiles::TwoPassQuantiles(std::vector<double> probabilities)
    : probabilities_(std::move(probabilities)), coarse_(kBins, 0) {
  for (const double q : probabilities_) {
    if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("TwoPassQuantiles: probability outside [0, 1]");
  }
}

void TwoPassQuantiles::count(const float* values, const bool* include, std::size_t n, int64_t weight) {
  if (second_pass_) throw std::logic_error("TwoPassQuantiles::count after start_second_pass");
  for (std::size_t i = 0; i < n; ++i) {
    if ((include != nullptr && !include[i]) || std::isnan(values[i])) continue;
    coarse_[order_key(values[i]) >> 16] += weight;
    total_ += weight;
  }
}

void TwoPassQuantiles::start_second_pass() {
  second_pass_ = true;
  if (total_ == 0) return;
  std::vector<int64_t> ranks;
  for (const double q : probabilities_) {
    const Position p = position(total_, q);
    ranks.push_back(p.lo);
    ranks.push_back(p.hi);
  }
  int64_t start = 0;
  for (uint32_t bin = 0; bin < kBins; ++bin) {
    const int64_t end = start + coarse_[bin];
    for (const int64_t r : ranks) {
      if (r >= start && r < end && fine_.count(bin) == 0) {
        fine_[bin].assign(kBins, 0);
        bin_start_[bin] = start;
      }
    }
    start = end;
  }
}

void TwoPassQuantiles::collect(const float* values, const bool* include, std::size_t n, int64_t weight) {
  if (!second_pass_) throw std::logic_error("TwoPassQuantiles::collect before start_second_pass");
  for (std::size_t i = 0; i < n; ++i) {
    if ((include != nullptr && !include[i]) || std::isnan(values[i])) continue;
    const uint32_t key = order_key(values[i]);
    const auto it = fine_.find(key >> 16);
    if (it != fine_.end()) it->second[key & 0xffffU] += weight;
  }
}

double TwoPassQuantiles::order_statistic(int64_t rank) const {
  // The bin whose ranks contain `rank` is the last one starting at or before it with values.
  for (auto it = bin_start_.rbegin(); it != bin_start_.rend(); ++it) {
    if (it->second > rank) continue;
    const std::vector<int64_t>& counts = fine_.at(it->first);
    int64_t seen = it->second;
    for (uint32_t low = 0; low < kBins; ++low) {
      seen += counts[low];
      if (seen > rank) return static_cast<double>(from_order_key((it->first << 16) | low));
    }
    break;  // the bin holds fewer values than pass 1 counted: the passes saw different data
  }
  throw std::logic_error("TwoPassQuantiles: pass 2 did not see the values of pass 1");
}

std::vector<double> TwoPassQuantiles::result() const {
  std::vector<double> out;
  for (const double q : probabilities_) {
    if (total_ == 0) {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    const Position p = position(total_, q);
    out.push_back(lerp(order_statistic(p.lo), order_statistic(p.hi), p.gamma));
  }
  return out;
}

}  // namespace neuralom
