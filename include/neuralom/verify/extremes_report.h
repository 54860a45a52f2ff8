// extremes.csv and extremes.json (the extreme-event scores of verify/extremes.h), and the
// threshold files users may give instead of the thresholds computed from the truth.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "neuralom/verify/extremes.h"

namespace neuralom {

/// Long-format CSV, one row per (system, lead, variable, quantile), header
/// `system,lead,variable,channel,tails,quantile,lower_threshold,upper_threshold,hits,misses,false_alarms,correct_negatives,csi,sedi,n_ic`
/// (lower_threshold empty for upper-tail variables, NaN as `nan`). Written atomically; throws OutputError.
void write_extremes_csv(const std::string& path, const std::vector<ExtremesTable>& systems);

/// The same content as JSON with the definitions, one object per system with [lead][variable][quantile]
/// arrays. Throws OutputError.
void write_extremes_json(const std::string& path, const std::vector<ExtremesTable>& systems);

/// Thresholds keyed by (variable, quantile).
using ThresholdTable = std::map<std::pair<std::string, double>, ExtremeThreshold>;

/// Reads a CSV whose header names at least `variable`, `quantile` and `upper_threshold` (and
/// `lower_threshold` for variables scored on both tails); other columns are ignored, so an
/// extremes.csv of an earlier run is a valid threshold file. Rows repeating a (variable, quantile)
/// must agree. Throws InputError naming the file, line and column.
ThresholdTable read_threshold_file(const std::string& path);

/// The thresholds of `spec`'s variables and quantiles from `table`. Throws InputError naming the
/// file and the first (variable, quantile) it lacks.
std::vector<std::vector<ExtremeThreshold>> select_thresholds(const ThresholdTable& table, const ExtremesSpec& spec,
                                                            const std::string& path);

}  // namespace neuralom
