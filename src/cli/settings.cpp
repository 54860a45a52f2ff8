#include "neuralom/cli/settings.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <filesystem>
#include <limits>
#include <sstream>

#include "neuralom/core/errors.h"
#include "neuralom/core/number_text.h"

namespace neuralom {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// The two layers in precedence order.
class Sources {
 public:
  Sources(const SettingsLayer& flags, const SettingsLayer& config) : flags_(flags), config_(config) {}

  const SettingsLayer::Entry* find(const std::string& key) const {
    if (const auto* e = flags_.find(key)) return e;
    return config_.find(key);
  }
  bool from_flags(const std::string& key) const { return flags_.has(key); }
  bool in_config(const std::string& key) const { return config_.has(key); }
  const SettingsLayer::Entry* config_entry(const std::string& key) const { return config_.find(key); }
  const SettingsLayer::Entry* flag_entry(const std::string& key) const { return flags_.find(key); }

 private:
  const SettingsLayer& flags_;
  const SettingsLayer& config_;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string path_of(const SettingsLayer::Entry& e) {
  const std::string v = trim(e.value);
  if (v.empty() || e.base_dir.empty() || fs::path(v).is_absolute()) return v;
  return (fs::path(e.base_dir) / v).lexically_normal().string();
}

int64_t to_int(const SettingsLayer::Entry& e, const std::string& key, int64_t min_value, int64_t max_value) {
  const std::string v = trim(e.value);
  const std::optional<int64_t> parsed = parse_integer(v);
  if (!parsed) throw ConfigError(e.origin + ": '" + v + "' is not an integer (" + key + ")");
  const int64_t out = *parsed;
  if (out < min_value || out > max_value) {
    throw ConfigError(e.origin + ": " + key + " must be in " + std::to_string(min_value) + ".." +
                      std::to_string(max_value) + ", got " + v);
  }
  return out;
}

bool to_bool(const SettingsLayer::Entry& e) {
  std::string v = trim(e.value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  throw ConfigError(e.origin + ": '" + e.value + "' is not a boolean (true/false)");
}

double to_double(const std::string& text, const std::string& origin, const std::string& key) {
  const std::string v = trim(text);
  const std::optional<double> parsed = parse_real(v);
  if (!parsed) throw ConfigError(origin + ": '" + v + "' is not a number (" + key + ")");
  return *parsed;
}

OutputFormat to_format(const SettingsLayer::Entry& e) {
  const std::string v = trim(e.value);
  if (v == "hdf5") return OutputFormat::kHdf5;
  if (v == "netcdf") return OutputFormat::kNetcdf;
  if (v == "zarr") return OutputFormat::kZarr;
  throw ConfigError(e.origin + ": format must be hdf5, netcdf or zarr, got '" + v + "'");
}

/// "U0", "U0:both", "T0:upper".
std::vector<ExtremeVariable> to_extreme_variables(const SettingsLayer::Entry& e) {
  std::vector<ExtremeVariable> out;
  for (const auto& item : split_list(e.value)) {
    const auto colon = item.find(':');
    ExtremeVariable v;
    v.name = trim(item.substr(0, colon));
    const std::string tails = colon == std::string::npos ? "both" : trim(item.substr(colon + 1));
    if (tails == "upper") {
      v.tails = ExtremeTails::kUpper;
    } else if (tails != "both") {
      throw ConfigError(e.origin + ": '" + item + "': the tails of an extreme variable are 'both' or 'upper' "
                        "(e.g. U0:both,T0:upper)");
    }
    if (v.name.empty()) throw ConfigError(e.origin + ": empty variable name in '" + e.value + "'");
    out.push_back(v);
  }
  if (out.empty()) throw ConfigError(e.origin + ": no extreme variables");
  return out;
}

}  // namespace

const SettingsLayer::Entry* SettingsLayer::find(const std::string& key) const {
  const auto it = entries.find(key);
  return it == entries.end() ? nullptr : &it->second;
}

void SettingsLayer::set(const std::string& key, std::string value, std::string origin, std::string base_dir) {
  entries[key] = Entry{std::move(value), std::move(origin), std::move(base_dir)};
}

std::vector<int64_t> parse_index_spec(const std::string& text, const std::string& what) {
  std::vector<int64_t> out;
  const auto items = split_list(text);
  if (items.empty()) throw ConfigError(what + ": empty index list");
  {
    std::stringstream raw(text);
    std::string piece;
    while (std::getline(raw, piece, ',')) {
      if (trim(piece).empty()) throw ConfigError(what + ": empty item in '" + text + "'");
    }
  }
  for (const auto& item : items) {
    std::vector<std::string> parts;
    std::stringstream ss(item);
    std::string p;
    while (std::getline(ss, p, ':')) parts.push_back(trim(p));
    if (item.back() == ':') parts.emplace_back();
    auto number = [&](const std::string& s) -> int64_t {
      const std::optional<int64_t> v = parse_integer(s);
      if (!v || *v < 0) {
        throw ConfigError(what + ": '" + item + "' is not an index, a range start:stop or start:stop:step " +
                          "of non-negative integers");
      }
      return *v;
    };
    if (parts.size() == 1) {
      out.push_back(number(parts[0]));
    } else if (parts.size() == 2 || parts.size() == 3) {
      const int64_t start = number(parts[0]);
      const int64_t stop = number(parts[1]);
      const int64_t step = parts.size() == 3 ? number(parts[2]) : 1;
      if (step == 0 || stop <= start) {
        throw ConfigError(what + ": range '" + item + "' is empty (ranges are start:stop with stop > start, stop excluded)");
      }
      // Counted rather than stepped (start + k * step <= stop - 1 never overflows), and bounded
      // before anything is allocated: "0:9223372036854775807" is a typo, not a request.
      const int64_t count = (stop - 1 - start) / step + 1;
      if (count > kMaxIndices - static_cast<int64_t>(out.size())) {
        throw ConfigError(what + ": '" + text + "' lists more than " + std::to_string(kMaxIndices) + " indices");
      }
      for (int64_t k = 0; k < count; ++k) out.push_back(start + k * step);
    } else {
      throw ConfigError(what + ": cannot parse '" + item + "'");
    }
    if (static_cast<int64_t>(out.size()) > kMaxIndices) {
      throw ConfigError(what + ": '" + text + "' lists more than " + std::to_string(kMaxIndices) + " indices");
    }
  }
  return out;
}

std::vector<std::string> reference_out_variables() {
  static const char* depths[] = {"0",   "2",   "5",   "7",   "11",  "15",  "21",  "29",  "40",  "55",  "77", "92",
                                 "109", "130", "155", "186", "222", "266", "318", "380", "453", "541", "643"};
  std::vector<std::string> names;
  for (const char* var : {"S", "U", "V", "T"}) {
    for (const char* d : depths) names.push_back(std::string(var) + d);
  }
  names.emplace_back("SSH");
  return names;
}

RunSettings resolve_settings(RunMode mode, const SettingsLayer& flags, const SettingsLayer& config) {
  const Sources src(flags, config);
  RunSettings s;
  s.mode = mode;

  auto text = [&](const std::string& key, const std::string& fallback) {
    const auto* e = src.find(key);
    return e ? trim(e->value) : fallback;
  };
  auto path = [&](const std::string& key, const std::string& fallback) {
    const auto* e = src.find(key);
    return e ? path_of(*e) : fallback;
  };
  auto integer = [&](const std::string& key, int64_t fallback, int64_t min_value, int64_t max_value = kMax) {
    const auto* e = src.find(key);
    return e ? to_int(*e, key, min_value, max_value) : fallback;
  };
  auto boolean = [&](const std::string& key, bool fallback) {
    const auto* e = src.find(key);
    return e ? to_bool(*e) : fallback;
  };
  auto indices = [&](const std::string& key, const std::string& fallback) {
    const auto* e = src.find(key);
    return e ? parse_index_spec(e->value, e->origin) : parse_index_spec(fallback, key);
  };

  // Data paths: a flag wins; a --data-dir flag re-roots every path not given as a flag; then
  // the configuration's own path; then <data_dir>/<reference file name>.
  s.data_dir = path("data_dir", "data");
  const bool data_dir_flag = src.from_flags("data_dir");
  auto data_path = [&](const std::string& key, const std::string& file) {
    if (const auto* e = src.flag_entry(key)) return path_of(*e);
    if (!data_dir_flag) {
      if (const auto* e = src.config_entry(key)) return path_of(*e);
    }
    return (fs::path(s.data_dir) / file).string();
  };
  s.test_data_path = data_path("test_data_path", "test");
  s.land_mask_path = data_path("land_mask_path", "land_mask.h5");
  s.global_means_path = data_path("global_means_path", "mean_s_t_ssh.npy");
  s.global_stds_path = data_path("global_stds_path", "std_s_t_ssh.npy");
  s.climate_mean_path = data_path("climate_mean_path", "climate_mean_s_t_ssh.npy");
  s.test_data_path_atmos = data_path("test_data_path_atmos", "test_atmos");
  s.global_means_path_atmos = data_path("global_means_path_atmos", "mean_atmos.npy");
  s.global_stds_path_atmos = data_path("global_stds_path_atmos", "std_atmos.npy");
  s.year = text("year", "");
  s.test_file = path("test_file", "");
  s.atmos_file = path("atmos_file", "");

  if (const auto* e = src.find("stages")) {
    for (const auto& p : split_list(e->value)) s.stages.push_back(path_of(SettingsLayer::Entry{p, e->origin, e->base_dir}));
  }
  s.atmos_model = path("atmos_model", "");

  s.prediction_length = integer("prediction_length", 61, 2);
  s.ics = indices("ics", mode == RunMode::kSimulate ? "0:240" : "0:50");
  s.in_channels = indices("in_channels", "0:97");
  s.ocean_channels = indices("ocean_channels", "0:93");
  s.atmos_channels = indices("atmos_channels", "93:97");
  s.out_channels = indices("out_channels", "0:93");
  if (const auto* e = src.find("out_variables")) {
    s.out_variables = split_list(e->value);
  } else {
    s.out_variables = reference_out_variables();
  }
  s.atmos_time_offset = integer("atmos_time_offset", 2, 0);
  s.atmos_steps_per_day = integer("atmos_steps_per_day", 4, 1);
  s.atmos_substeps = integer("atmos_substeps", 0, 0, kMaxSubsteps);
  if (src.find("atmos_forcing_channels")) s.atmos_forcing_channels = indices("atmos_forcing_channels", "");

  s.output_dir = path("output_dir", "");
  s.save_fields = boolean("save_fields", false);
  if (const auto* e = src.find("save_channels")) s.save_channels = split_list(e->value);
  if (src.find("save_leads")) s.save_leads = indices("save_leads", "");
  s.compression = static_cast<int>(integer("compression", 0, 0, 9));
  s.baselines = boolean("baselines", false);
  if (const auto* e = src.find("format")) s.format = to_format(*e);
  // Naming a CF format is asking for the fields in it.
  if (s.format != OutputFormat::kHdf5) {
    s.save_fields = true;
    // The initial conditions are the CF time coordinate, which must be strictly monotonic (xarray
    // cannot select a date range of an unsorted index).
    for (std::size_t i = 1; i < s.ics.size(); ++i) {
      if (s.ics[i] <= s.ics[i - 1]) {
        const auto* e = src.find("ics");
        throw ConfigError((e != nullptr ? e->origin : std::string("--ics")) + ": initial condition " +
                          std::to_string(s.ics[i]) + " after " + std::to_string(s.ics[i - 1]) + ": with --format " +
                          output_format_name(s.format) + " the initial conditions are "
                          "the time coordinate, which must increase strictly (give them sorted, without repeats)");
      }
    }
  }
  s.anomalies = boolean("anomalies", false);
  s.save_truth = boolean("save_truth", false);
  auto real = [&](const std::string& key) -> std::optional<double> {
    const auto* e = src.find(key);
    if (e == nullptr) return std::nullopt;
    return to_double(e->value, e->origin, key);
  };
  s.latitude = AxisSpec{real("latitude_start"), real("latitude_step")};
  s.longitude = AxisSpec{real("longitude_start"), real("longitude_step")};
  if (const auto* e = src.find("depths")) {
    for (const auto& item : split_list(e->value)) s.depths.push_back(to_double(item, e->origin, "depths"));
  }

  // Extreme-event scores: on with `extremes` or any of their settings.
  s.extremes = boolean("extremes", false) || src.find("extreme_variables") != nullptr ||
               src.find("extreme_quantiles") != nullptr || src.find("extreme_thresholds") != nullptr;
  if (const auto* e = src.find("extreme_variables")) {
    s.extreme_variables = to_extreme_variables(*e);
  } else {
    s.extreme_variables = {{"U0", ExtremeTails::kBoth}, {"V0", ExtremeTails::kBoth}, {"T0", ExtremeTails::kUpper}};
  }
  if (const auto* e = src.find("extreme_quantiles")) {
    for (const auto& item : split_list(e->value)) {
      const double q = to_double(item, e->origin, "extreme_quantiles");
      if (!(q > 0.5 && q < 1.0)) {
        throw ConfigError(e->origin + ": extreme quantile " + item + " must lie strictly between 0.5 and 1 "
                          "(the lower tail uses 1 - q)");
      }
      s.extreme_quantiles.push_back(q);
    }
    if (s.extreme_quantiles.empty()) throw ConfigError(e->origin + ": no extreme quantiles");
  } else {
    s.extreme_quantiles = {0.90, 0.95, 0.99};
  }
  s.extreme_thresholds = path("extreme_thresholds", "");
  s.overwrite = boolean("overwrite", false);
  s.hash_data = boolean("hash_data", true);
  s.resume = boolean("resume", false);
  if (const auto* e = src.find("shard")) s.shard = parse_shard_spec(trim(e->value), e->origin);

  s.batch = integer("batch", 1, 1);
  s.device = text("device", "auto");
  s.threads = static_cast<int>(integer("threads", 0, 0, kMaxThreads));
  if (const auto* e = src.find("static_cache")) s.static_cache = parse_static_cache(trim(e->value), e->origin);
  s.edge_chunk = integer("edge_chunk", -1, -1);
  s.host_cache_mib = integer("host_cache", -1, -1, int64_t{1} << 30);
  s.prefetch = integer("prefetch", 2, 1, kMaxPrefetch);
  if (const auto* e = src.find("precision")) s.precision = parse_precision(trim(e->value), e->origin);
  s.cuda_graphs = boolean("cuda_graphs", false);
  s.deterministic = boolean("deterministic", false);
  s.decode_land = boolean("decode_land", false);
  s.fused_kernels = boolean("fused_kernels", true);
  s.cuda_fused_kernels = boolean("cuda_fused_kernels", false);
  const std::string nonfinite = text("on_nonfinite", "error");
  if (nonfinite != "error" && nonfinite != "warn") {
    throw ConfigError(src.find("on_nonfinite")->origin + ": on_nonfinite must be 'error' or 'warn', got '" +
                      nonfinite + "'");
  }
  s.warn_on_nonfinite = nonfinite == "warn";
  s.dry_run = boolean("dry_run", false);
  s.log_level = text("log_level", "");
  return s;
}

}  // namespace neuralom
