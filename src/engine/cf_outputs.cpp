#include "neuralom/engine/cf_outputs.h"

#include "neuralom/core/version.h"
#include "neuralom/engine/provenance.h"
#include "neuralom/io/netcdf_file.h"
#include "neuralom/verify/netcdf_results_writer.h"
#include "neuralom/verify/results_writer.h"

namespace neuralom {
std::vector<std::pair<std::string, std::string>> cf_global_attributes(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  const std::string mode = run_mode_name(s.mode);
  std::string source = "NeuralOM (graph-network ocean model, " + std::to_string(plan.stages.size()) + " stages";
  source += plan.atmos ? "; forced by the OneForecast atmosphere model)" : "; forced by the data's atmosphere)";
  std::vector<std::pair<std::string, std::string>> a{
      {"title", "NeuralOM ocean " + std::string(s.mode == RunMode::kSimulate ? "simulation" : "forecast") + " from " +
                    std::to_string(s.ics.size()) + " initial conditions of " + std::to_string(plan.year)},
      {"institution", "produced with neuralom"},
      {"source", source},
      {"references", "NeuralOM, AAAI-26, arXiv:2505.21020"},
      {"history", utc_timestamp() + " neuralom " + mode + " (" + version_line() + ")"},
      {"neuralom_version", version_line()},
      {"netcdf_library_version", netcdf_library_version()},
      {"mode", mode},
      {"ocean_file", plan.ocean_file},
      {"climatology_file", plan.climatology_file},
  };
  for (std::size_t k = 0; k < plan.stages.size(); ++k) {
    const std::string key = "stage" + std::to_string(k + 1);
    a.emplace_back(key + "_model", plan.stages[k].path);
    a.emplace_back(key + "_checkpoint", plan.stages[k].checkpoint);
    a.emplace_back(key + "_checkpoint_sha256", plan.stages[k].checkpoint_sha256);
  }
  if (plan.atmos) {
    a.emplace_back("atmosphere_model", plan.atmos->path);
    a.emplace_back("atmosphere_checkpoint", plan.atmos->checkpoint);
    a.emplace_back("atmosphere_checkpoint_sha256", plan.atmos->checkpoint_sha256);
  }
  return a;
}

std::string fields_extension(const RunPlan& plan) {
  switch (plan.settings.format) {
    case OutputFormat::kHdf5: return ".h5";
    case OutputFormat::kNetcdf: return ".nc";
    case OutputFormat::kZarr: return ".zarr";
  }
  return ".h5";
}

bool fields_want_absolute_values(const RunPlan& plan) {
  return plan.settings.format != OutputFormat::kHdf5 && !plan.settings.anomalies;
}

std::unique_ptr<FieldsWriter> open_fields_writer(const RunPlan& plan, const at::Tensor& ocean_mask,
                                                 const std::string& path, std::vector<int64_t> ics) {
  const RunSettings& s = plan.settings;
  ResultsLayout layout;
  layout.ics = std::move(ics);
  layout.leads = plan.save_leads;
  layout.channels = plan.save_channels;
  layout.channel_names = s.out_variables;
  layout.ocean_channels = static_cast<int64_t>(s.out_channels.size());
  layout.height = plan.height;
  layout.width = plan.width;
  layout.gzip_level = s.compression;

  if (s.format == OutputFormat::kHdf5) {
    return std::make_unique<ResultsWriter>(
        path, layout,
        std::vector<std::pair<std::string, std::string>>{{"mode", run_mode_name(s.mode)},
                                                          {"ocean_file", plan.ocean_file},
                                                          {"neuralom_version", version_line()}});
  }
  NetcdfResultsOptions options;
  options.format = s.format == OutputFormat::kZarr ? NetcdfFormat::kZarr : NetcdfFormat::kNetcdf4;
  options.year = plan.year;
  options.latitudes = plan.latitudes;
  options.longitudes = plan.longitudes;
  options.channel_depths = plan.channel_depths;
  options.ocean_mask = ocean_mask;
  options.anomalies = s.anomalies;
  options.save_truth = s.save_truth;
  options.attributes = cf_global_attributes(plan);
  return std::make_unique<NetcdfResultsWriter>(path, layout, std::move(options));
}

std::unique_ptr<DayCache> open_saved_climatology(const RunPlan& plan, std::shared_ptr<const Climatology> climatology) {
  if (!fields_want_absolute_values(plan)) return nullptr;
  const RunSettings& s = plan.settings;
  // The climatology of each saved output channel's file channel, one valid day at a time.
  std::vector<int64_t> channels;
  for (const int64_t c : plan.save_channels) channels.push_back(s.out_channels[static_cast<std::size_t>(c)]);
  const int64_t rows = plan.height;
  const int64_t cols = plan.width;
  return std::make_unique<DayCache>(
      [climatology, channels, rows, cols](int64_t day) { return climatology->read_channels(day, channels, rows, cols); },
      static_cast<std::size_t>(2 * s.batch + 2));
}

}  // namespace neuralom
