// Scores of a yes/no forecast of an event from its 2×2 contingency table.
//
//   H = hits / (hits + misses)                                   hit rate
//   F = false alarms / (false alarms + correct negatives)         false-alarm rate
//   CSI  = hits / (hits + misses + false alarms)                  critical success index
//   SEDI = [ln F − ln H − ln(1−F) + ln(1−H)] / [ln F + ln H + ln(1−F) + ln(1−H)]
//          symmetric extremal dependence index (Ferro & Stephenson 2011, Weather and Forecasting 26)
//
// Each is NaN where it is undefined: a zero denominator, and for SEDI an H or F of exactly 0 or 1
// (a logarithm of 0).
#pragma once

#include <cstdint>

namespace neuralom {

struct ContingencyCounts {
  int64_t hits = 0;               ///< event observed and forecast
  int64_t misses = 0;             ///< observed, not forecast
  int64_t false_alarms = 0;       ///< forecast, not observed
  int64_t correct_negatives = 0;  ///< neither

  int64_t total() const { return hits + misses + false_alarms + correct_negatives; }
};

double hit_rate(const ContingencyCounts& c);
double false_alarm_rate(const ContingencyCounts& c);
double critical_success_index(const ContingencyCounts& c);
double symmetric_extremal_dependence_index(const ContingencyCounts& c);

}  // namespace neuralom
