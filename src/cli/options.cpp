#include "neuralom/cli/options.h"

#include <algorithm>

#include <cxxopts.hpp>

#include "neuralom/cli/config.h"
#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

enum class Kind { kValue, kFlag };

struct OptionSpec {
  const char* group;
  const char* flag;
  const char* key;   // settings key; nullptr = handled specially
  Kind kind;
  const char* arg;
  const char* help;
  bool forecast_only;
};

// The single table of run options. Keys are those of settings.h / configuration files.
const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table{
      // Inputs.
      {"Inputs", "data-dir", "data_dir", Kind::kValue, "DIR",
       "root of the data in the reference layout: test/<year>.h5, land_mask.h5, mean_s_t_ssh.npy, "
       "std_s_t_ssh.npy, climate_mean_s_t_ssh.npy (default: ./data)", false},
      {"Inputs", "year", "year", Kind::kValue, "YEAR", "use test/<YEAR>.h5 (default: the first .h5 in test/ by name)", false},
      {"Inputs", "test-file", "test_file", Kind::kValue, "FILE", "ocean data file instead of test/<year>.h5", false},
      {"Inputs", "land-mask", "land_mask_path", Kind::kValue, "FILE", "land mask (default: <data-dir>/land_mask.h5)", false},
      {"Inputs", "mean", "global_means_path", Kind::kValue, "FILE", "channel means (default: <data-dir>/mean_s_t_ssh.npy)", false},
      {"Inputs", "std", "global_stds_path", Kind::kValue, "FILE", "channel standard deviations (default: <data-dir>/std_s_t_ssh.npy)", false},
      {"Inputs", "climatology", "climate_mean_path", Kind::kValue, "FILE",
       "day-of-year climatology (default: <data-dir>/climate_mean_s_t_ssh.npy)", false},
      {"Inputs", "stages", "stages", Kind::kValue, "S1.pt,S2.pt", "exported stage models, stage 1 first", false},
      {"Inputs", "atmos", "atmos_model", Kind::kValue, "ATMOS.pt", "exported atmosphere model (OneForecast)", true},
      {"Inputs", "atmos-dir", "test_data_path_atmos", Kind::kValue, "DIR",
       "directory of 6-hourly atmosphere files <year>.h5 (default: <data-dir>/test_atmos)", true},
      {"Inputs", "atmos-file", "atmos_file", Kind::kValue, "FILE", "atmosphere data file instead of <atmos-dir>/<year>.h5", true},
      {"Inputs", "atmos-mean", "global_means_path_atmos", Kind::kValue, "FILE", "atmosphere means (default: <data-dir>/mean_atmos.npy)", true},
      {"Inputs", "atmos-std", "global_stds_path_atmos", Kind::kValue, "FILE", "atmosphere standard deviations (default: <data-dir>/std_atmos.npy)", true},
      // Run.
      {"Run", "prediction-length", "prediction_length", Kind::kValue, "P",
       "frames per initial condition including the initial state: P-1 forecast days (default: 61)", false},
      {"Run", "ics", "ics", Kind::kValue, "SPEC",
       "initial conditions as day indices: ranges and lists, e.g. 0:240, 0,5,10, 0:240:10 "
       "(default: 0:240 simulate, 0:50 forecast)", false},
      {"Run", "in-channels", "in_channels", Kind::kValue, "SPEC", "file channels read (default: 0:97)", false},
      {"Run", "ocean-channels", "ocean_channels", Kind::kValue, "SPEC", "ocean state, as positions in the channels read (default: 0:93)", false},
      {"Run", "atmos-channels", "atmos_channels", Kind::kValue, "SPEC", "forcing, as positions in the channels read (default: 93:97)", false},
      {"Run", "out-channels", "out_channels", Kind::kValue, "SPEC", "file channels of the outputs, for statistics and mask (default: 0:93)", false},
      {"Run", "out-variables", "out_variables", Kind::kValue, "NAMES", "names of the outputs (default: S0..S643,U..,V..,T..,SSH)", false},
      {"Run", "atmos-substeps", "atmos_substeps", Kind::kValue, "N", "atmosphere model steps per ocean day (default: from the model, 4)", true},
      {"Run", "atmos-forcing-channels", "atmos_forcing_channels", Kind::kValue, "SPEC",
       "atmosphere channels that force the ocean (default: from the model, 65:69)", true},
      {"Run", "atmos-time-offset", "atmos_time_offset", Kind::kValue, "N", "time index of day 0's atmosphere snapshot (default: 2)", true},
      {"Run", "atmos-steps-per-day", "atmos_steps_per_day", Kind::kValue, "N", "atmosphere file time steps per day (default: 4)", true},
      // Outputs.
      {"Outputs", "output", "output_dir", Kind::kValue, "DIR", "output directory (metrics.csv, metrics.json, run.json, results_*.h5|.nc|.zarr)", false},
      {"Outputs", "save-fields", "save_fields", Kind::kFlag, "", "also write the fields: results_simulation.h5 / results_forecasting.h5", false},
      {"Outputs", "save-channels", "save_channels", Kind::kValue, "LIST", "channels to save, names or indices, e.g. T0,S0,SSH (default: all)", false},
      {"Outputs", "save-leads", "save_leads", Kind::kValue, "SPEC", "lead days to save, e.g. 0,10,30,60 (default: all)", false},
      {"Outputs", "compression", "compression", Kind::kValue, "LEVEL", "gzip level 1-9 for the fields file (default: 0, none)", false},
      {"Outputs", "format", "format", Kind::kValue, "FORMAT",
       "fields file format: hdf5 (the reference's results_*.h5, anomalies; default), netcdf (CF-1.8 results_*.nc: "
       "absolute values, coordinates, dates) or zarr (the same as a results_*.zarr store); netcdf and zarr imply "
       "--save-fields and also write metrics.nc", false},
      {"Outputs", "anomalies", "anomalies", Kind::kFlag, "", "netcdf/zarr: write anomalies instead of absolute values", false},
      {"Outputs", "save-truth", "save_truth", Kind::kFlag, "", "netcdf/zarr: also write the truth as truth_<variable>", false},
      {"Outputs", "latitude-start", "latitude_start", Kind::kValue, "DEG",
       "netcdf/zarr: latitude of row 0 (default: -90; 90 with --latitude-step -180/H for north-first data); the "
       "coordinates only: the RMSE/ACC weights keep the model grid's cos(-90 + 180 i/H)", false},
      {"Outputs", "latitude-step", "latitude_step", Kind::kValue, "DEG", "netcdf/zarr: latitude step per row (default: 180/H)", false},
      {"Outputs", "longitude-start", "longitude_start", Kind::kValue, "DEG",
       "netcdf/zarr: longitude of column 0 (default: -180 + 360/W; e.g. 0 for 0-360 data)", false},
      {"Outputs", "longitude-step", "longitude_step", Kind::kValue, "DEG", "netcdf/zarr: longitude step per column (default: 360/W)", false},
      {"Outputs", "depths", "depths", Kind::kValue, "M,M,...",
       "netcdf/zarr: metres of each depth level of the channel names, shallowest first (default: the GLORYS12 levels)", false},
      {"Outputs", "baselines", "baselines", Kind::kFlag, "", "also score persistence and climatology (zero anomaly)", false},
      {"Outputs", "extremes", "extremes", Kind::kFlag, "",
       "also score extreme events (CSI, SEDI) into extremes.csv and extremes.json", false},
      {"Outputs", "extreme-variables", "extreme_variables", Kind::kValue, "LIST",
       "variables and tails for --extremes (default: U0:both,V0:both,T0:upper)", false},
      {"Outputs", "extreme-quantiles", "extreme_quantiles", Kind::kValue, "LIST",
       "quantiles of the truth that define an extreme (default: 0.90,0.95,0.99)", false},
      {"Outputs", "extreme-thresholds", "extreme_thresholds", Kind::kValue, "FILE",
       "CSV of thresholds (variable,quantile,lower_threshold,upper_threshold; an earlier extremes.csv works) "
       "instead of quantiles of this run's truth", false},
      {"Outputs", "overwrite", "overwrite", Kind::kFlag, "", "replace the outputs of an earlier run in the output directory (those this run does not write are removed)", false},
      {"Outputs", "no-data-hash", nullptr, Kind::kFlag, "", "do not compute SHA-256 of the data files for run.json", false},
      // Execution.
      {"Execution", "batch", "batch", Kind::kValue, "B", "initial conditions per forward pass (default: 1)", false},
      {"Execution", "device", "device", Kind::kValue, "DEV", "auto, cpu, cuda or cuda:N (default: auto = CUDA if available)", false},
      {"Execution", "threads", "threads", Kind::kValue, "N", "CPU threads (default: all cores)", false},
      {"Execution", "static-cache", "static_cache", Kind::kValue, "auto|light|full|off",
       "precompute the input-independent graph work once: full is fastest, light leaves out the largest part "
       "(the mesh-to-grid edges: at full size ~0.9 instead of ~2.2 GiB per stage, a few seconds more per "
       "day-step), off recomputes everything (default: auto = light on the CPU, full on CUDA; on = full)", false},
      {"Execution", "edge-chunk", "edge_chunk", Kind::kValue, "N",
       "process encoder/decoder edges in chunks of N to bound memory (default: auto, 0 = off)", false},
      {"Execution", "host-cache", "host_cache", Kind::kValue, "MIB",
       "keep up to MIB MiB of freed large CPU buffers for the next day-step instead of returning them to the "
       "system (faster on CPU: fresh memory is zeroed by the kernel on first touch; default: 2048 on the CPU, "
       "none on CUDA; 0 = off)", false},
      {"Execution", "precision", "precision", Kind::kValue, "fp32|tf32|bf16",
       "arithmetic of the networks: fp32 (default), tf32 (CUDA tensor cores) or bf16 (float32 LayerNorm statistics, "
       "state and residual sum; needs a bf16-capable export)", false},
      {"Execution", "cuda-graphs", "cuda_graphs", Kind::kFlag, "",
       "capture the day-step in a CUDA graph after warm-up and replay it (CUDA devices only; default: off)", false},
      {"Execution", "deterministic", "deterministic", Kind::kFlag, "",
       "use deterministic algorithms: on a GPU, runs repeat bit for bit and batch B equals batch 1 (scatter-adds "
       "without atomics; slower); the CPU is deterministic anyway", false},
      {"Execution", "no-fused-kernels", nullptr, Kind::kFlag, "",
       "CPU: run the networks' operators as exported instead of neuralom's fused kernels (edge gather + add + SiLU "
       "in one pass, LayerNorm + residual and LayerNorm + scatter-sum block by block; the same sums, the SiLU may "
       "round about 2 ulp differently)", false},
      {"Execution", "cuda-fused-kernels", "cuda_fused_kernels", Kind::kFlag, "",
       "CUDA: run neuralom's fused kernels on the GPU too (experimental: off by default until validated on a GPU "
       "with scripts/gpu_check.sh; within float32 rounding of the exported operators, the scatter-sum atomic as "
       "ATen's; refused on the CPU)", false},
      {"Execution", "decode-land", "decode_land", Kind::kFlag, "",
       "also run the ocean models' decoder and output head at grid points that are land in every output channel "
       "(their outputs are masked to 0 either way; by default they are skipped, which is faster)", false},
      {"Execution", "prefetch", "prefetch", Kind::kValue, "DAYS", "days read ahead in the background (default: 2)", false},
      {"Execution", "on-nonfinite", "on_nonfinite", Kind::kValue, "error|warn", "NaN/Inf in a prediction: stop (default) or warn", false},
      {"Execution", "dry-run", "dry_run", Kind::kFlag, "", "validate inputs and models, print the plan, run nothing", false},
      // Interruption and scale-out.
      {"Interruption and scale-out", "resume", "resume", Kind::kFlag, "",
       "continue the run journaled in --output (after a crash, kill or time limit): finished initial conditions are "
       "kept, the rest run; refused if a setting, model or data file changed", false},
      {"Interruption and scale-out", "shard", "shard", Kind::kValue, "K/N",
       "run only part K of N (0-based) of the initial conditions, e.g. one task of a job array; combine the shards' "
       "output directories with `neuralom merge`", false},
      {"Execution", "log-level", "log_level", Kind::kValue, "LEVEL", "trace, debug, info, warn, error (default: $NEURALOM_LOG_LEVEL or info)", false},
      // Configuration.
      {"Configuration", "config-file", nullptr, Kind::kValue, "FILE", "YAML run configuration (flags override it; see configs/)", false},
      {"Configuration", "config", nullptr, Kind::kValue, "NAME",
       "section of the configuration to use (the reference's config name, e.g. NeuralOM)", false},
      {"Configuration", "exp-dir", nullptr, Kind::kValue, "DIR",
       "reference experiment layout: read <exp-dir>/<config>/<run-num>/config.yaml and the exported models next to its checkpoints", false},
      {"Configuration", "run-num", nullptr, Kind::kValue, "RUN", "reference run number, e.g. 20250309-195251", false},
      {"Configuration", "finetune-dir", nullptr, Kind::kValue, "DIR", "reference fine-tune directory, e.g. 6_steps_finetune", false},
  };
  return table;
}

std::string description(RunMode mode) {
  if (mode == RunMode::kSimulate) {
    return "Simulate the ocean with NeuralOM, forced by the atmospheric fields of the data file, from each initial "
           "condition for P-1 days; write RMSE/ACC (metrics.csv, metrics.json) and optionally the fields.";
  }
  return "Forecast the ocean with NeuralOM, forced by an AI atmosphere model run alongside it, from each initial "
         "condition for P-1 days; write RMSE/ACC (metrics.csv, metrics.json) and optionally the fields.";
}

/// The argument quoted for a POSIX shell where it needs it.
std::string shell_quoted(const std::string& arg) {
  const bool plain = !arg.empty() && arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                           "0123456789_-+=/.,:@%") == std::string::npos;
  if (plain) return arg;
  std::string out = "'";
  for (const char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// This command line with --resume: what continues the run if it is interrupted.
std::string resume_command(int argc, const char* const* argv) {
  std::string out = "neuralom";
  bool has_resume = false;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    has_resume = has_resume || arg == "--resume";
    out += ' ';
    out += shell_quoted(arg);
  }
  return has_resume ? out : out + " --resume";
}

}  // namespace

RunCommand parse_run_command(RunMode mode, int argc, const char* const* argv) {
  const std::string name = std::string("neuralom ") + run_mode_name(mode);
  cxxopts::Options options(name, description(mode));
  options.custom_help("[options]");
  options.set_width(110);
  std::vector<std::string> groups;
  for (const auto& spec : option_table()) {
    if (spec.forecast_only && mode != RunMode::kForecast) continue;
    // Each group once, in the order of its first option (a group's options need not be adjacent).
    if (std::find(groups.begin(), groups.end(), spec.group) == groups.end()) groups.emplace_back(spec.group);
    auto adder = options.add_options(spec.group);
    if (spec.kind == Kind::kFlag) {
      adder(spec.flag, spec.help);
    } else {
      adder(spec.flag, spec.help, cxxopts::value<std::string>(), spec.arg);
    }
  }
  options.add_options("Configuration")("h,help", "show this help");

  cxxopts::ParseResult args;
  try {
    args = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw ConfigError(std::string(e.what()) + " (see `" + name + " --help`)");
  }
  RunCommand command;
  if (args.count("help") != 0U) {
    command.help = true;
    command.help_text = options.help(groups);
    return command;
  }
  if (!args.unmatched().empty()) {
    throw ConfigError("unexpected argument '" + args.unmatched().front() + "' (see `" + name + " --help`)");
  }

  SettingsLayer flags;
  for (const auto& spec : option_table()) {
    if (spec.key == nullptr || args.count(spec.flag) == 0U) continue;
    const std::string origin = std::string("--") + spec.flag;
    flags.set(spec.key, spec.kind == Kind::kFlag ? "true" : args[spec.flag].as<std::string>(), origin);
  }
  if (args.count("no-data-hash") != 0U) flags.set("hash_data", "false", "--no-data-hash");
  if (args.count("no-fused-kernels") != 0U) flags.set("fused_kernels", "false", "--no-fused-kernels");

  auto value = [&args](const char* flag) {
    return args.count(flag) != 0U ? args[flag].as<std::string>() : std::string();
  };
  SettingsLayer config;
  std::vector<std::string> sources;
  const bool reference_layout = args.count("exp-dir") != 0U || args.count("run-num") != 0U;
  if (reference_layout) {
    ReferenceExperiment exp;
    if (args.count("exp-dir") != 0U) exp.exp_dir = value("exp-dir");
    if (args.count("config") != 0U) exp.config = value("config");
    exp.run_num = value("run-num");
    exp.finetune_dir = value("finetune-dir");
    config = load_reference_experiment(exp);
    sources.push_back("reference experiment " + exp.config_path());
  } else if (args.count("finetune-dir") != 0U) {
    throw ConfigError("--finetune-dir only makes sense with --exp-dir and --run-num");
  }
  if (args.count("config-file") != 0U) {
    // A run file overrides the reference experiment's settings where both are given.
    const SettingsLayer file = load_config_file(value("config-file"), reference_layout ? "" : value("config"));
    for (const auto& [key, entry] : file.entries) config.entries[key] = entry;
    sources.push_back("config file " + value("config-file"));
  } else if (args.count("config") != 0U && !reference_layout) {
    throw ConfigError("--config names a section of --config-file or of the reference experiment (--exp-dir)");
  }
  sources.emplace_back("command line");
  command.settings = resolve_settings(mode, flags, config);
  command.settings.sources = sources;
  command.settings.resume_command = resume_command(argc, argv);
  return command;
}

}  // namespace neuralom
