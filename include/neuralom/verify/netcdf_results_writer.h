// results_simulation.nc / results_forecasting.nc (or a .zarr store): the fields of a run as
// CF-1.8 NetCDF, written frame by frame as the rollout produces them.
//
//   dimensions  time (one per initial condition), lead (days), depth, latitude, longitude
//   coordinates time(time)           forecast_reference_time, "days since <year>-01-01", proleptic_gregorian
//               lead(lead)           forecast_period, days
//               valid_time(time, lead) = time + lead
//               depth(depth) m positive down, latitude(latitude), longitude(longitude) degrees
//   variables   thetao, so, uo, vo (time, lead, depth, latitude, longitude); zos (time, lead, latitude,
//               longitude); float32, _FillValue NaN on land; truth_<name> alongside with save_truth
//
// Values are absolute (anomaly + climatology, added by the caller: wants_absolute_values()) unless
// `anomalies` is set. Only variables with a saved channel are written; the depth axis holds the
// saved depths, and a variable not saved at one of them is NaN there. Chunks are one (time, lead)
// field of one variable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/io/netcdf_file.h"
#include "neuralom/io/output_file.h"
#include "neuralom/verify/cf_variables.h"
#include "neuralom/verify/fields_writer.h"

namespace neuralom {

struct NetcdfResultsOptions {
  NetcdfFormat format = NetcdfFormat::kNetcdf4;
  int year = 1970;                      ///< day index 0 of the data = 1 January of this year
  std::vector<double> latitudes;        ///< [H] degrees north
  std::vector<double> longitudes;       ///< [W] degrees east
  std::vector<double> channel_depths;   ///< [ocean_channels] metres, NaN for 2-D channels (cf_variables.h)
  at::Tensor ocean_mask;                ///< bool `[ocean_channels, H, W]`, true = ocean
  bool anomalies = false;               ///< write anomalies (the reference's values) instead of absolute values
  bool save_truth = false;              ///< also write truth_<variable>
  std::vector<std::pair<std::string, std::string>> attributes;  ///< extra global attributes
};

class NetcdfResultsWriter : public FieldsWriter {
 public:
  /// Creates "<path>.partial" with every dimension, coordinate, variable and attribute. Throws
  /// ConfigError for an inconsistent layout or channel names without a CF variable, OutputError.
  NetcdfResultsWriter(const std::string& path, ResultsLayout layout, NetcdfResultsOptions options);
  ~NetcdfResultsWriter() override;  ///< an uncommitted file is deleted

  const ResultsLayout& layout() const override { return layout_; }
  bool wants_absolute_values() const override { return !options_.anomalies; }
  bool saves_lead(int64_t lead) const override { return ledger_.saves_lead(lead); }
  void write(int64_t ic_slot, int64_t lead, const float* truth, const float* pred) override;
  void append_part(const std::string& part, int64_t first_slot) override;
  void commit() override;

 private:
  void define();
  void write_variables(const std::string& prefix, int64_t ic_slot, int64_t lead_slot, const float* frame);

  ResultsLayout layout_;
  NetcdfResultsOptions options_;
  FrameLedger ledger_;
  CfLayout cf_;                          // of the saved channels
  std::vector<std::vector<uint8_t>> land_;  // per saved channel, [H * W], 1 = land
  std::unique_ptr<PendingFile> pending_;
  std::unique_ptr<NetcdfFile> file_;
  std::vector<float> block_;             // one variable's [depth, H, W] staging
};

}  // namespace neuralom
