// Everything a run needs, fully resolved: what cli/ produces from flags, configuration files and
// defaults (cli/settings.h), and what the engine validates (run_plan.h) and runs (runner.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/data/grid_coordinates.h"
#include "neuralom/engine/ic_partition.h"
#include "neuralom/model/precision.h"
#include "neuralom/model/static_cache.h"
#include "neuralom/verify/extremes.h"

namespace neuralom {

enum class RunMode { kSimulate, kForecast };

/// "simulate" / "forecast".
inline const char* run_mode_name(RunMode mode) { return mode == RunMode::kSimulate ? "simulate" : "forecast"; }

/// The container of the fields file: the reference's HDF5 layout (anomalies), or CF-NetCDF as a
/// NetCDF-4 file or a Zarr store (absolute values, real coordinates, dates).
enum class OutputFormat { kHdf5, kNetcdf, kZarr };

/// "hdf5" / "netcdf" / "zarr".
inline const char* output_format_name(OutputFormat format) {
  return format == OutputFormat::kHdf5 ? "hdf5" : format == OutputFormat::kNetcdf ? "netcdf" : "zarr";
}

/// The settings of one run. Paths are as given or made absolute by the resolver; their existence
/// is checked later, by plan_run().
struct RunSettings {
  RunMode mode = RunMode::kSimulate;

  // Inputs.
  std::string data_dir;            ///< root of the reference data layout
  std::string year;                ///< picks test/<year>.h5; "" = first .h5 by name
  std::string test_data_path;      ///< directory of yearly ocean files
  std::string test_file;           ///< explicit ocean file (overrides directory + year)
  std::string land_mask_path;
  std::string global_means_path;
  std::string global_stds_path;
  std::string climate_mean_path;
  std::string test_data_path_atmos;  ///< directory of yearly 6-hourly atmosphere files
  std::string atmos_file;            ///< explicit atmosphere file
  std::string global_means_path_atmos;
  std::string global_stds_path_atmos;
  std::vector<std::string> stages;   ///< exported stage models, stage 1 first
  std::string atmos_model;           ///< exported atmosphere model (forecast mode)

  // What to run.
  int64_t prediction_length = 61;    ///< frames per IC incl. the initial state
  std::vector<int64_t> ics;          ///< initial conditions (day indices)
  std::vector<int64_t> in_channels;     ///< file channels read
  std::vector<int64_t> ocean_channels;  ///< positions within in_channels: the ocean state
  std::vector<int64_t> atmos_channels;  ///< positions within in_channels: the forcing
  std::vector<int64_t> out_channels;    ///< file channels of the outputs (statistics, mask)
  std::vector<std::string> out_variables;  ///< names of the outputs
  int64_t atmos_time_offset = 2;     ///< atmosphere file: time index of day 0's snapshot
  int64_t atmos_steps_per_day = 4;   ///< atmosphere file: time steps per day
  int64_t atmos_substeps = 0;        ///< model applications per ocean day (0 = from the model)
  std::vector<int64_t> atmos_forcing_channels;  ///< atmosphere channels used (empty = from the model)

  // Outputs.
  std::string output_dir;
  bool save_fields = false;
  std::vector<std::string> save_channels;  ///< names or indices; empty = all
  std::vector<int64_t> save_leads;         ///< empty = all
  int compression = 0;                     ///< gzip level of the fields file, 0 = none
  bool baselines = false;                  ///< also score persistence and climatology
  OutputFormat format = OutputFormat::kHdf5;  ///< of the fields file; netcdf/zarr also write metrics.nc
  bool anomalies = false;                  ///< NetCDF/Zarr: write anomalies instead of absolute values
  bool save_truth = false;                 ///< NetCDF/Zarr: also write truth_<variable>
  AxisSpec latitude;                       ///< NetCDF/Zarr: latitude of row 0 and step (default −90, 180/H)
  AxisSpec longitude;                      ///< NetCDF/Zarr: longitude of column 0 and step
  std::vector<double> depths;              ///< NetCDF/Zarr: metres per depth level; empty = GLORYS12 levels

  // Extreme-event scores.
  bool extremes = false;                   ///< write extremes.csv / extremes.json
  std::vector<ExtremeVariable> extreme_variables;  ///< default U0, V0 both tails; T0 upper tail
  std::vector<double> extreme_quantiles;   ///< default 0.90, 0.95, 0.99
  std::string extreme_thresholds;          ///< threshold file; empty = quantiles of the verification truth
  bool overwrite = false;                  ///< replace outputs of an earlier run
  bool hash_data = true;                   ///< record SHA-256 of data files in run.json

  // Interruption and scale-out (engine/journal.h, engine/ic_partition.h).
  bool resume = false;                     ///< continue the run journaled in output_dir
  ShardSpec shard;                         ///< run only this part of the batches (--shard K/N)
  std::string resume_command;              ///< the command line that continues this run (for messages)
  bool merging = false;                    ///< neuralom merge: the parts exist (in the shards); only the final files are written
  bool output_owned_elsewhere = false;     ///< MPI ranks but 0: rank 0 creates --output (and removes it if refused)

  // Execution.
  int64_t batch = 1;
  std::string device = "auto";
  int threads = 0;                 ///< 0 = all hardware threads
  StaticCache static_cache = StaticCache::kAuto;  ///< model/static_cache.h
  int64_t edge_chunk = -1;         ///< -1 = automatic (chunks on CPU, none on CUDA)
  int64_t host_cache_mib = -1;     ///< freed CPU buffers kept for reuse (model/host_buffer_cache.h); -1 = automatic
  int64_t prefetch = 2;            ///< days read ahead
  bool warn_on_nonfinite = false;
  Precision precision = Precision::kFp32;  ///< arithmetic of the networks (model/precision.h)
  bool cuda_graphs = false;        ///< capture the day-step in a CUDA graph and replay it (CUDA only)
  bool deterministic = false;      ///< deterministic algorithms: CUDA runs bit-reproducible (slower)
  /// Run the ocean stages' decoder at grid points that are land in every output channel too
  /// (masked to 0 anyway; by default they are skipped: ModelOptions::output_nodes).
  bool decode_land = false;
  /// neuralom's fused kernels in place of the exported operators (model/fused_kernels.h): on the
  /// CPU when set; on CUDA when cuda_fused_kernels is set as well.
  bool fused_kernels = true;
  /// CUDA: the fused operators' CUDA kernels too. Off by default until a GPU run of
  /// scripts/gpu_check.sh has compared them with the exported operators.
  bool cuda_fused_kernels = false;
  bool dry_run = false;
  std::string log_level;

  std::vector<std::string> sources;  ///< where settings came from, for run.json
};

}  // namespace neuralom
