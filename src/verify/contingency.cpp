#include "neuralom/verify/contingency.h"

#include <cmath>
#include <limits>

namespace neuralom {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(int64_t numerator, int64_t denominator) {
  return denominator == 0 ? kNaN : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

double hit_rate(const ContingencyCounts& c) { return ratio(c.hits, c.hits + c.misses); }

double false_alarm_rate(const ContingencyCounts& c) {
  return ratio(c.false_alarms, c.false_alarms + c.correct_negatives);
}

double critical_success_index(const ContingencyCounts& c) {
  return ratio(c.hits, c.hits + c.misses + c.false_alarms);
}

double symmetric_extremal_dependence_index(const ContingencyCounts& c) {
  const double h = hit_rate(c);
  const double f = false_alarm_rate(c);
  // NaN rates fail these comparisons too.
  if (!(h > 0.0 && h < 1.0 && f > 0.0 && f < 1.0)) return kNaN;
  const double lf = std::log(f);
  const double lh = std::log(h);
  const double l1f = std::log1p(-f);
  const double l1h = std::log1p(-h);
  return (lf - lh - l1f + l1h) / (lf + lh + l1f + l1h);
}

}  // namespace neuralom
