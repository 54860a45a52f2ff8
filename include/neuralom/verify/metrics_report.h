// Writing and printing verification scores: metrics.csv, metrics.json and the summary table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/verify/metrics.h"

namespace neuralom {

/// Long-format CSV, one row per (system, lead, variable), header
/// `system,lead,variable,channel,rmse,nrmse,acc,n_ic`; plus per (system, lead) a row with
/// variable `ALL` holding the mean normalised RMSE and mean ACC over all variables (rmse and
/// channel empty). NaN prints as `nan`. Written atomically; throws OutputError.
void write_metrics_csv(const std::string& path, const std::vector<MetricsTable>& systems);

/// The same content as JSON, one object per system with [lead][variable] arrays. Throws OutputError.
void write_metrics_json(const std::string& path, const std::vector<MetricsTable>& systems);

/// A fixed-width table for the terminal: RMSE and ACC of `variables` (those present) and the
/// all-variable means at the `leads` present, one block per system.
std::string format_summary(const std::vector<MetricsTable>& systems, const std::vector<int64_t>& leads,
                           const std::vector<std::string>& variables);

}  // namespace neuralom
