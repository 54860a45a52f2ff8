#include "neuralom/engine/run_settings_json.h"

#include <filesystem>
#include <optional>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// Absolute, so that a run resumed or merged from another directory compares equal.
std::string absolute(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const fs::path p = fs::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

std::vector<std::string> absolute(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(absolute(p));
  return out;
}

Json axis_json(const AxisSpec& axis) {
  Json j = Json::object();
  j["start"] = axis.start ? Json(*axis.start) : Json(nullptr);
  j["step"] = axis.step ? Json(*axis.step) : Json(nullptr);
  return j;
}

std::optional<double> optional_real(const Json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<double>();
}

OutputFormat format_named(const std::string& name) {
  if (name == "hdf5") return OutputFormat::kHdf5;
  if (name == "netcdf") return OutputFormat::kNetcdf;
  if (name == "zarr") return OutputFormat::kZarr;
  throw ConfigError("unknown format '" + name + "'");
}

}  // namespace

Json result_settings_json(const RunSettings& s) {
  Json j = Json::object();
  j["mode"] = run_mode_name(s.mode);
  j["year"] = s.year;
  j["test_data_path"] = absolute(s.test_data_path);
  j["test_file"] = absolute(s.test_file);
  j["land_mask_path"] = absolute(s.land_mask_path);
  j["global_means_path"] = absolute(s.global_means_path);
  j["global_stds_path"] = absolute(s.global_stds_path);
  j["climate_mean_path"] = absolute(s.climate_mean_path);
  j["stages"] = absolute(s.stages);
  if (s.mode == RunMode::kForecast) {
    j["test_data_path_atmos"] = absolute(s.test_data_path_atmos);
    j["atmos_file"] = absolute(s.atmos_file);
    j["global_means_path_atmos"] = absolute(s.global_means_path_atmos);
    j["global_stds_path_atmos"] = absolute(s.global_stds_path_atmos);
    j["atmos_model"] = absolute(s.atmos_model);
    j["atmos_time_offset"] = s.atmos_time_offset;
    j["atmos_steps_per_day"] = s.atmos_steps_per_day;
    j["atmos_substeps"] = s.atmos_substeps;
    j["atmos_forcing_channels"] = s.atmos_forcing_channels;
  }
  j["prediction_length"] = s.prediction_length;
  j["ics"] = s.ics;
  j["in_channels"] = s.in_channels;
  j["ocean_channels"] = s.ocean_channels;
  j["atmos_channels"] = s.atmos_channels;
  j["out_channels"] = s.out_channels;
  j["out_variables"] = s.out_variables;
  j["save_fields"] = s.save_fields;
  j["save_channels"] = s.save_channels;
  j["save_leads"] = s.save_leads;
  j["compression"] = s.compression;
  j["format"] = output_format_name(s.format);
  j["anomalies"] = s.anomalies;
  j["save_truth"] = s.save_truth;
  j["latitude"] = axis_json(s.latitude);
  j["longitude"] = axis_json(s.longitude);
  j["depths"] = s.depths;
  j["baselines"] = s.baselines;
  j["extremes"] = s.extremes;
  if (s.extremes) {
    std::vector<std::string> variables;
    for (const auto& v : s.extreme_variables) variables.push_back(v.name + ":" + extreme_tails_name(v.tails));
    j["extreme_variables"] = variables;
    j["extreme_quantiles"] = s.extreme_quantiles;
    j["extreme_thresholds"] = absolute(s.extreme_thresholds);
  }
  j["batch"] = s.batch;
  // Whether static terms are precomputed, as a boolean, as before the light level: light and full
  // compute the same numbers (off differs by float32 rounding), and runs journaled before it can
  // still be resumed. The level itself is in run.json's execution block.
  j["static_cache"] = s.static_cache != StaticCache::kOff;
  j["edge_chunk"] = s.edge_chunk;
  j["on_nonfinite"] = s.warn_on_nonfinite ? "warn" : "error";
  // Only when not the default, so that the fingerprints of fp32 runs journaled before the setting
  // existed stay valid. (--cuda-graphs is not here: a replayed graph computes what eager does.)
  if (s.precision != Precision::kFp32) j["precision"] = precision_name(s.precision);
  return j;
}

RunSettings settings_from_json(const Json& j, const std::string& origin) {
  RunSettings s;
  std::string key;
  try {
    auto get = [&](const char* name) -> const Json& {
      key = name;
      return j.at(name);
    };
    s.mode = get("mode").get<std::string>() == "forecast" ? RunMode::kForecast : RunMode::kSimulate;
    s.year = get("year").get<std::string>();
    s.test_data_path = get("test_data_path").get<std::string>();
    s.test_file = get("test_file").get<std::string>();
    s.land_mask_path = get("land_mask_path").get<std::string>();
    s.global_means_path = get("global_means_path").get<std::string>();
    s.global_stds_path = get("global_stds_path").get<std::string>();
    s.climate_mean_path = get("climate_mean_path").get<std::string>();
    s.stages = get("stages").get<std::vector<std::string>>();
    if (s.mode == RunMode::kForecast) {
      s.test_data_path_atmos = get("test_data_path_atmos").get<std::string>();
      s.atmos_file = get("atmos_file").get<std::string>();
      s.global_means_path_atmos = get("global_means_path_atmos").get<std::string>();
      s.global_stds_path_atmos = get("global_stds_path_atmos").get<std::string>();
      s.atmos_model = get("atmos_model").get<std::string>();
      s.atmos_time_offset = get("atmos_time_offset").get<int64_t>();
      s.atmos_steps_per_day = get("atmos_steps_per_day").get<int64_t>();
      s.atmos_substeps = get("atmos_substeps").get<int64_t>();
      s.atmos_forcing_channels = get("atmos_forcing_channels").get<std::vector<int64_t>>();
    }
    s.prediction_length = get("prediction_length").get<int64_t>();
    s.ics = get("ics").get<std::vector<int64_t>>();
    s.in_channels = get("in_channels").get<std::vector<int64_t>>();
    s.ocean_channels = get("ocean_channels").get<std::vector<int64_t>>();
    s.atmos_channels = get("atmos_channels").get<std::vector<int64_t>>();
    s.out_channels = get("out_channels").get<std::vector<int64_t>>();
    s.out_variables = get("out_variables").get<std::vector<std::string>>();
    s.save_fields = get("save_fields").get<bool>();
    s.save_channels = get("save_channels").get<std::vector<std::string>>();
    s.save_leads = get("save_leads").get<std::vector<int64_t>>();
    s.compression = get("compression").get<int>();
    s.format = format_named(get("format").get<std::string>());
    s.anomalies = get("anomalies").get<bool>();
    s.save_truth = get("save_truth").get<bool>();
    s.latitude = AxisSpec{optional_real(get("latitude").at("start")), optional_real(get("latitude").at("step"))};
    s.longitude = AxisSpec{optional_real(get("longitude").at("start")), optional_real(get("longitude").at("step"))};
    s.depths = get("depths").get<std::vector<double>>();
    s.baselines = get("baselines").get<bool>();
    s.extremes = get("extremes").get<bool>();
    if (s.extremes) {
      for (const auto& item : get("extreme_variables").get<std::vector<std::string>>()) {
        const auto colon = item.find(':');
        s.extreme_variables.push_back(
            {item.substr(0, colon), item.substr(colon + 1) == "upper" ? ExtremeTails::kUpper : ExtremeTails::kBoth});
      }
      s.extreme_quantiles = get("extreme_quantiles").get<std::vector<double>>();
      s.extreme_thresholds = get("extreme_thresholds").get<std::string>();
    }
    s.batch = get("batch").get<int64_t>();
    s.static_cache = get("static_cache").get<bool>() ? StaticCache::kAuto : StaticCache::kOff;
    s.edge_chunk = get("edge_chunk").get<int64_t>();
    s.warn_on_nonfinite = get("on_nonfinite").get<std::string>() == "warn";
    if (j.contains("precision")) s.precision = parse_precision(get("precision").get<std::string>(), "precision");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(origin + ": setting '" + key + "' is missing or malformed (" + e.what() + ")");
  } catch (const ConfigError& e) {
    throw InputError(origin + ": setting '" + key + "': " + e.what());
  }
  return s;
}

std::string first_difference(const Json& a, const Json& b) {
  for (const auto& [key, value] : a.items()) {
    if (!b.contains(key) || b.at(key) != value) return key;
  }
  for (const auto& [key, value] : b.items()) {
    if (!a.contains(key)) return key;
  }
  return "";
}

}  // namespace neuralom
