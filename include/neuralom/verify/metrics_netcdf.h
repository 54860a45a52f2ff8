// metrics.nc: the scores of metrics.csv as CF-NetCDF, so that skill curves open in the same tools
// as the fields (xarray, ncview, Panoply):
//
//   dimensions  system, lead, depth
//   system(system)        "model", "persistence", "climatology"
//   lead(lead)            days (forecast_period);  depth(depth) metres
//   rmse_<v>(system, lead, depth), nrmse_<v>, acc_<v>   v = so, uo, vo, thetao (zos without depth)
//   nrmse_all(system, lead), acc_all(system, lead), n_ic(system, lead)
//
// RMSE is in the variable's units, nRMSE and ACC are dimensionless; NaN where not defined.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "neuralom/verify/metrics.h"

namespace neuralom {

/// Writes `systems` (all with the same variables and leads) to `path` atomically. `channel_depths`:
/// metres per variable of the tables, NaN for 2-D ones (verify/cf_variables.h). `attributes`: extra
/// global attributes. Throws ConfigError for channel names without a CF variable, OutputError.
void write_metrics_netcdf(const std::string& path, const std::vector<MetricsTable>& systems,
                          const std::vector<double>& channel_depths,
                          const std::vector<std::pair<std::string, std::string>>& attributes);

}  // namespace neuralom
