#include "neuralom/engine/run_plan.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

#include <spdlog/spdlog.h>

#include "engine/detail/input_checks.h"
#include "engine/detail/resource_checks.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/number_text.h"
#include "neuralom/engine/journal.h"
#include "neuralom/data/calendar.h"
#include "neuralom/io/netcdf_file.h"
#include "neuralom/io/output_file.h"
#include "neuralom/model/runtime.h"
#include "neuralom/verify/cf_variables.h"
#include "neuralom/verify/extremes_report.h"

namespace neuralom {
namespace fs = std::filesystem;
namespace {

// The default cap of the CPU host buffer cache (see resolve_host_cache): at full size it holds the
// day-step's recurring grid and edge-chunk buffers (docs/performance.md, "Reusing buffers").
constexpr int64_t kAutoHostCacheMib = 2048;

using detail::join;

std::string describe_range(const std::vector<int64_t>& v) {
  if (v.empty()) return "none";
  bool contiguous = true;
  for (std::size_t i = 1; i < v.size(); ++i) contiguous = contiguous && v[i] == v[i - 1] + 1;
  if (contiguous && v.size() > 2) return std::to_string(v.front()) + ".." + std::to_string(v.back());
  if (v.size() > 12) {
    return join(std::vector<int64_t>(v.begin(), v.begin() + 6)) + ", ... (" + std::to_string(v.size()) + " in all)";
  }
  return join(v);
}

void resolve_saved_fields(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  const auto n_out = static_cast<int64_t>(s.out_channels.size());
  if (s.save_channels.empty()) {
    for (int64_t c = 0; c < n_out; ++c) plan.save_channels.push_back(c);
  } else {
    std::set<int64_t> chosen;
    for (const auto& item : s.save_channels) {
      const auto it = std::find(s.out_variables.begin(), s.out_variables.end(), item);
      int64_t index = -1;
      if (it != s.out_variables.end()) {
        index = it - s.out_variables.begin();
      } else {
        index = parse_integer(item).value_or(-1);
      }
      if (index < 0 || index >= n_out) {
        throw ConfigError("--save-channels: '" + item + "' is neither a variable name (e.g. T0, S0, SSH) nor a channel "
                          "index 0.." + std::to_string(n_out - 1));
      }
      chosen.insert(index);
    }
    plan.save_channels.assign(chosen.begin(), chosen.end());
  }
  if (s.save_leads.empty()) {
    for (int64_t l = 0; l <= plan.last_lead(); ++l) plan.save_leads.push_back(l);
  } else {
    std::set<int64_t> chosen;
    for (const auto l : s.save_leads) {
      if (l < 0 || l > plan.last_lead()) {
        throw ConfigError("--save-leads: lead " + std::to_string(l) + " is outside 0.." + std::to_string(plan.last_lead()));
      }
      chosen.insert(l);
    }
    plan.save_leads.assign(chosen.begin(), chosen.end());
  }
}

/// The year, coordinates and depths of the CF outputs, checked before anything runs.
void resolve_cf_outputs(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (s.format == OutputFormat::kHdf5) {
    // The reference's layout always holds anomalies and the truth.
    if (s.anomalies || s.save_truth) {
      spdlog::warn("--anomalies and --save-truth apply to --format netcdf|zarr; the HDF5 fields file always holds "
                   "the anomalies of the prediction and the truth");
    }
    return;
  }
  if (s.format == OutputFormat::kZarr && !netcdf_zarr_available()) {
    throw ConfigError("--format zarr: this netCDF-C library (" + netcdf_library_version() +
                      ") was built without NCZarr; use --format netcdf");
  }
  if (!s.year.empty()) {
    const std::optional<int64_t> year = parse_integer(s.year);
    if (!year || *year < 1 || *year > 9999) throw ConfigError("--year: '" + s.year + "' is not a year");
    plan.year = static_cast<int>(*year);
  } else if (const auto year = year_from_file_name(plan.ocean_file)) {
    plan.year = *year;
  } else {
    throw ConfigError("--format " + std::string(output_format_name(s.format)) + " needs the dates of the data: " +
                      plan.ocean_file + " is not named after its year (YYYY.h5); pass --year YYYY (day 0 = 1 January)");
  }
  plan.latitudes = grid_latitudes(plan.height, s.latitude);
  plan.longitudes = grid_longitudes(plan.width, s.longitude);
  plan.channel_depths = channel_depths(s.out_variables, s.depths);
}

/// The scored variables' channels and, from a threshold file, their thresholds.
void resolve_extremes(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (!s.extremes) return;
  ExtremesSpec& spec = plan.extremes;
  spec.variables = s.extreme_variables;
  spec.quantiles = s.extreme_quantiles;
  for (const auto& v : spec.variables) {
    const auto it = std::find(s.out_variables.begin(), s.out_variables.end(), v.name);
    if (it == s.out_variables.end()) {
      throw ConfigError("--extreme-variables: '" + v.name + "' is not an output variable (e.g. U0, V0, T0, SSH)");
    }
    spec.channels.push_back(it - s.out_variables.begin());
  }
  if (!s.extreme_thresholds.empty()) {
    spec.thresholds = select_thresholds(read_threshold_file(s.extreme_thresholds), spec, s.extreme_thresholds);
    spec.threshold_source = "threshold file " + s.extreme_thresholds;
  }
}

void validate_output(RunPlan& plan) {
  const RunSettings& s = plan.settings;
  const char* extension = s.format == OutputFormat::kHdf5 ? ".h5" : s.format == OutputFormat::kNetcdf ? ".nc" : ".zarr";
  const std::string stem = s.mode == RunMode::kSimulate ? "results_simulation" : "results_forecasting";
  plan.results_file = s.output_dir.empty() ? std::string() : (fs::path(s.output_dir) / (stem + extension)).string();
  if (!s.output_dir.empty() && s.format != OutputFormat::kHdf5) {
    plan.metrics_netcdf_file = (fs::path(s.output_dir) / "metrics.nc").string();
  }
  if (s.dry_run) return;
  if (s.output_dir.empty()) throw ConfigError("no output directory: pass --output DIR");
  std::error_code exists_ec;
  if (s.output_owned_elsewhere) {
    // Another MPI rank: rank 0 makes --output (and alone removes it if the run is refused, so that
    // a rank refused first cannot pull it away under rank 0's probe); where it exists, probe it.
    if (fs::exists(s.output_dir, exists_ec)) ensure_output_directory(s.output_dir);
  } else {
    // The outermost directory that does not exist yet is the one to remove if the run is refused.
    for (fs::path p = fs::absolute(s.output_dir, exists_ec).lexically_normal();
         !p.empty() && !fs::exists(p, exists_ec); p = p.parent_path()) {
      plan.created_directory = p.string();
      if (p == p.parent_path()) break;
    }
    ensure_output_directory(s.output_dir);
  }
  if (s.extremes && !s.extreme_thresholds.empty()) {
    // An earlier run's extremes.csv is a valid threshold file, but not from the directory this run
    // writes its own into: it would be replaced while it is still an input (and a resume refused).
    std::error_code ec;
    for (const char* name : {"extremes.csv", "extremes.json"}) {
      if (fs::equivalent(s.extreme_thresholds, fs::path(s.output_dir) / name, ec)) {
        throw ConfigError("--extreme-thresholds " + s.extreme_thresholds + " is the " + name + " this run writes in " +
                          s.output_dir + ": copy it elsewhere first and pass the copy");
      }
    }
  }
  if (s.overwrite) return;
  if (Journal::exists_in(s.output_dir)) {
    // Final outputs beside a journal are those of a run that died while writing them: --resume
    // writes them again.
    if (s.resume) return;
    throw OutputError(s.output_dir + " holds the journal of a run that did not finish (" +
                      Journal::directory_of(s.output_dir) + "): pass --resume to continue it, or --overwrite to "
                      "start again");
  }
  std::vector<std::string> existing;
  std::error_code ec;
  for (const char* name : {"metrics.csv", "metrics.json", "run.json", "metrics.nc", "extremes.csv", "extremes.json"}) {
    if (fs::exists(fs::path(s.output_dir) / name, ec)) existing.push_back(name);
  }
  if (s.save_fields && fs::exists(plan.results_file, ec)) existing.push_back(fs::path(plan.results_file).filename().string());
  if (!existing.empty()) {
    std::string list;
    for (const auto& e : existing) list += (list.empty() ? "" : ", ") + e;
    throw OutputError(s.output_dir + " already holds the outputs of an earlier run (" + list +
                      "); pass --overwrite to replace them or choose another --output");
  }
}

/// Chunk the encoder/decoder edges on CPU when one pass over them would need a lot of memory.
int64_t resolve_edge_chunk(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  if (s.edge_chunk >= 0) return s.edge_chunk;
  if (plan.device.is_cuda()) return 0;
  const ModelMetadata& m = plan.stages.front();
  // The decoder has ~3 edges per grid node; an edge MLP holds ~6 activations of hidden_dim floats.
  const double bytes = 3.0 * static_cast<double>(m.height * m.width) * static_cast<double>(m.hidden_dim) * 4.0 * 6.0 *
                       static_cast<double>(s.batch);
  constexpr double kBudget = 1024.0 * 1024.0 * 1024.0;  // 1 GiB of edge activations at once
  if (bytes <= kBudget) return 0;
  const double per_edge = static_cast<double>(m.hidden_dim) * 4.0 * 6.0 * static_cast<double>(s.batch);
  return std::max<int64_t>(16384, static_cast<int64_t>(kBudget / per_edge));
}

/// The HostBufferCache's cap: what the user asked for, else AUTO_MIB on the CPU (where every
/// day-step would otherwise have its large buffers zeroed by the kernel again) and none on CUDA
/// (whose host-side buffers come from LibTorch's pinned-memory cache already).
int64_t resolve_host_cache(const RunPlan& plan) {
  const RunSettings& s = plan.settings;
  constexpr int64_t kMiB = int64_t{1} << 20;
  if (s.host_cache_mib >= 0) return s.host_cache_mib * kMiB;
  if (plan.device.is_cuda()) return 0;
  return kAutoHostCacheMib * kMiB;
}

/// What planning decides once the output directory is known: device, precision, chunking, caches,
/// and the memory and disk the run needs.
void finish_plan(RunPlan& plan) {
  const RunSettings& settings = plan.settings;
  plan.device = select_device(settings.device);
  check_precision_device(settings.precision, plan.device);
  if (settings.cuda_graphs && !plan.device.is_cuda()) {
    throw ConfigError("--cuda-graphs needs a CUDA device, but the run is on " + plan.device.str() +
                      " (CUDA graphs replay GPU kernels; drop the flag on the CPU)");
  }
  if (settings.cuda_fused_kernels && !settings.fused_kernels) {
    throw ConfigError("--cuda-fused-kernels and --no-fused-kernels (fused_kernels: false) contradict each other; "
                      "pass one of them");
  }
  if (settings.cuda_fused_kernels && !plan.device.is_cuda()) {
    throw ConfigError("--cuda-fused-kernels needs a CUDA device, but the run is on " + plan.device.str() +
                      " (the CPU runs its own fused kernels by default; drop the flag)");
  }
  plan.edge_chunk = resolve_edge_chunk(plan);
  plan.static_cache = resolve_static_cache(settings.static_cache, plan.device);
  plan.host_cache_bytes = resolve_host_cache(plan);
  detail::check_resources(plan);
}

}  // namespace

void remove_created_directories(const RunPlan& plan) noexcept {
  if (plan.created_directory.empty()) return;
  try {
    // From --output up to the outermost one created; rmdir(2) fails, harmlessly, on one that is
    // not empty (and then on its parents).
    const fs::path top(plan.created_directory);
    for (fs::path p = fs::absolute(plan.settings.output_dir).lexically_normal(); !p.empty(); p = p.parent_path()) {
      if (::rmdir(p.c_str()) != 0 || p == top || p == p.parent_path()) break;
    }
  } catch (...) {  // fs::absolute's allocations: leave the directory
  }
}

RunPlan plan_run(const RunSettings& settings) {
  RunPlan plan;
  plan.settings = settings;
  detail::validate_channels(settings);
  detail::validate_stages(plan);
  detail::validate_ocean_data(plan);
  detail::validate_ics(plan);
  if (settings.mode == RunMode::kForecast) detail::validate_atmosphere(plan);
  if (settings.batch > static_cast<int64_t>(settings.ics.size())) {
    plan.settings.batch = static_cast<int64_t>(settings.ics.size());
  }
  resolve_saved_fields(plan);
  resolve_cf_outputs(plan);
  resolve_extremes(plan);
  // A refused run leaves no trace: an --output it created is removed again (if still empty).
  RefusedOutputCleanup refused(plan);
  validate_output(plan);
  finish_plan(plan);
  refused.dismiss();
  return plan;
}

std::string RunPlan::describe() const {
  const RunSettings& s = settings;
  std::ostringstream o;
  o << "mode:            " << run_mode_name(s.mode) << "\n";
  o << "ocean data:      " << ocean_file << " " << ocean_shape.shape_string() << " " << dtype_name(ocean_dtype) << "\n";
  o << "climatology:     " << climatology_file << " " << climatology_shape.shape_string() << " "
    << dtype_name(climatology_dtype)
    << (climatology_shape.times == 1 ? " (one field for all days)" : "") << "\n";
  o << "land mask:       " << s.land_mask_path << "\n";
  o << "statistics:      " << s.global_means_path << ", " << s.global_stds_path << "\n";
  for (std::size_t k = 0; k < stages.size(); ++k) o << "stage " << k + 1 << ":         " << stages[k].path << ": " << stages[k].summary() << "\n";
  if (atmos) {
    o << "atmosphere:      " << atmos->path << ": " << atmos->summary() << "\n";
    o << "atmos data:      " << atmos_file << " " << atmos_shape.shape_string() << " " << dtype_name(atmos_dtype)
      << ", snapshot of day d = "
      << s.atmos_time_offset << " + " << s.atmos_steps_per_day << "*d\n";
    o << "atmos stepping:  " << atmos_substeps << " sub-steps per ocean day, forcing channels ["
      << join(atmos_forcing_channels) << "]\n";
  }
  o << "initial conds:   " << describe_range(s.ics) << " (" << s.ics.size() << ")\n";
  o << "prediction:      " << s.prediction_length << " frames (" << last_lead() << " forecast days)\n";
  o << "grid:            " << height << "x" << width << ", " << s.ocean_channels.size() << " ocean channels, "
    << s.atmos_channels.size() << " forcing channels per day\n";
  o << "device:          " << device.str() << ", batch " << s.batch << ", edge chunk "
    << (edge_chunk > 0 ? std::to_string(edge_chunk) : std::string("off")) << ", static cache "
    << static_cache_name(static_cache) << ", host cache "
    << (host_cache_bytes > 0 ? std::to_string(host_cache_bytes >> 20) + " MiB" : std::string("off"))
    << (s.precision != Precision::kFp32 ? std::string(", precision ") + precision_name(s.precision) : std::string())
    << (s.cuda_graphs ? ", CUDA graphs" : "") << (s.deterministic ? ", deterministic" : "")
    << (s.decode_land ? ", land decoded" : "") << (!s.fused_kernels && device.is_cpu() ? ", unfused" : "")
    << (s.cuda_fused_kernels ? ", CUDA fused kernels" : "") << "\n";
  o << "output:          " << (s.output_dir.empty() ? std::string("(none)") : s.output_dir);
  if (!s.output_dir.empty()) {
    o << ", about " << detail::format_bytes(output_bytes) << (s.save_fields && s.compression > 0 ? " before compression" : "")
      << " (" << (output_free_bytes >= 0 ? detail::format_bytes(static_cast<double>(output_free_bytes)) : std::string("unknown"))
      << " free)";
  }
  o << (s.shard.sharded() ? ", shard " + s.shard.str() + " (merge the shards with `neuralom merge`)" : std::string())
    << (s.resume ? ", resuming its journal if there is one" : std::string()) << "\n";
  o << "memory:          at least " << detail::format_bytes(memory_bytes) << " for the data\n";
  if (s.save_fields) {
    o << "fields:          " << results_file << ", " << save_channels.size() << " channels, " << save_leads.size()
      << " leads" << (s.compression > 0 ? ", gzip " + std::to_string(s.compression) : std::string()) << "\n";
  }
  if (s.format != OutputFormat::kHdf5) {
    o << "CF outputs:      " << (s.anomalies ? "anomalies" : "absolute values") << (s.save_truth ? " and truth" : "")
      << ", initial conditions " << date_of_day(year, s.ics.front()).iso() << " .. "
      << date_of_day(year, *std::max_element(s.ics.begin(), s.ics.end())).iso() << ", latitude " << latitudes.front()
      << ".." << latitudes.back() << ", longitude " << longitudes.front() << ".." << longitudes.back() << "\n";
  }
  if (s.extremes) {
    o << "extremes:        ";
    for (std::size_t v = 0; v < extremes.variables.size(); ++v) {
      o << (v ? ", " : "") << extremes.variables[v].name << " (" << extreme_tails_name(extremes.variables[v].tails) << ")";
    }
    o << " at quantiles";
    for (const double q : extremes.quantiles) o << " " << q;
    o << "; thresholds from "
      << (extremes.threshold_source.empty() ? std::string("the verification truth") : extremes.threshold_source) << "\n";
  }
  return o.str();
}

std::string export_command(const std::string& kind, const std::string& checkpoint, const std::string& out) {
  return "python3 scripts/export_torchscript.py --model " + kind + " --checkpoint " + checkpoint + " --out " + out +
         "  [--input-res H W --mesh-level L --hidden-dim D --processor-layers N if not the reference configuration]";
}

}  // namespace neuralom
