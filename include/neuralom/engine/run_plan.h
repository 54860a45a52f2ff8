// Validation before compute. plan_run() checks every input of a run — files, datasets, shapes,
// element types, statistics, climatology, mask, model metadata against the data, the initial
// conditions against the file length, the output directory — and resolves what the settings
// leave open (which data file, device, edge chunking, saved channels). Nothing heavy is loaded:
// model weights, fields and the climatology are only inspected.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "neuralom/data/fields.h"
#include "neuralom/engine/run_settings.h"
#include "neuralom/model/model_metadata.h"
#include "neuralom/verify/extremes.h"

namespace neuralom {

struct RunPlan {
  RunSettings settings;

  // Resolved inputs.
  std::string ocean_file;           ///< the yearly ocean data file in use
  FieldsShape ocean_shape;
  DType ocean_dtype = DType::kFloat32;
  std::string climatology_file;
  FieldsShape climatology_shape;    ///< times = 1 for a single field
  DType climatology_dtype = DType::kFloat32;
  std::string atmos_file;           ///< forecast mode
  FieldsShape atmos_shape;
  DType atmos_dtype = DType::kFloat32;
  std::vector<ModelMetadata> stages;
  std::optional<ModelMetadata> atmos;

  // Geometry and channels.
  int64_t height = 0;               ///< ocean model grid
  int64_t width = 0;
  int64_t atmos_height = 0;         ///< atmosphere model grid
  int64_t atmos_width = 0;
  int64_t days_available = 0;       ///< ocean days usable (file and climatology)
  int64_t atmos_substeps = 0;       ///< forecast: model applications per ocean day
  std::vector<int64_t> atmos_forcing_channels;  ///< forecast: atmosphere channels used as forcing
  std::vector<int64_t> ocean_stats_channels;    ///< file channels the ocean statistics must cover (in ∪ out)
  std::vector<int64_t> atmos_stats_channels;    ///< forecast: atmosphere file channels read (0..in_channels−1)
  std::vector<int64_t> save_channels;           ///< indices into the output channels, ascending
  std::vector<int64_t> save_leads;              ///< lead days written to the fields file, ascending

  // Execution.
  c10::Device device{c10::kCPU};
  int64_t edge_chunk = 0;
  StaticCache static_cache = StaticCache::kFull;  ///< settings.static_cache resolved for the device
  int64_t host_cache_bytes = 0;  ///< cap of the HostBufferCache (0 = none)

  // Outputs.
  std::string results_file;         ///< <output>/results_<simulation|forecasting>.<h5|nc|zarr>
  std::string created_directory;    ///< the outermost directory planning made for --output ("" if none)
  std::string metrics_netcdf_file;  ///< <output>/metrics.nc with --format netcdf|zarr, else empty

  // CF outputs (--format netcdf|zarr).
  int year = 0;                       ///< the year whose 1 January is day 0 (--year, or the data file's name)
  std::vector<double> latitudes;      ///< [H] degrees north
  std::vector<double> longitudes;     ///< [W] degrees east
  std::vector<double> channel_depths; ///< [output channels] metres, NaN for 2-D channels

  // Extreme-event scores (--extremes): thresholds are filled here from a threshold file, or by
  // the runner from the truth (engine/extreme_thresholds.h).
  ExtremesSpec extremes;

  // Resources, estimated before compute (engine/detail/resource_checks).
  double output_bytes = 0;          ///< what the outputs will take (fields uncompressed)
  int64_t output_free_bytes = -1;   ///< free space of the output directory, -1 if unknown
  double memory_bytes = 0;          ///< a lower bound of the host memory for the data

  /// The last lead day (prediction_length − 1).
  int64_t last_lead() const { return settings.prediction_length - 1; }

  /// A human-readable description (printed by --dry-run and logged at the start of a run).
  std::string describe() const;
};

/// Validates the settings against the files they name, and the run against the machine: the
/// outputs must fit in the output directory's free space, the data in memory. Throws ConfigError,
/// InputError, ModelError or OutputError with a message naming the file, dataset or setting at
/// fault (for resources: the estimate and what it is made of).
RunPlan plan_run(const RunSettings& settings);

/// Removes the --output that planning created (and the parents it created with it), as far as they
/// are still empty: a refused run leaves no trace. Never throws.
void remove_created_directories(const RunPlan& plan) noexcept;

/// Calls remove_created_directories(plan) when it goes out of scope, unless active is false or
/// dismiss() was called: what a run refused after planning, or a refused merge, leaves behind.
class RefusedOutputCleanup {
 public:
  explicit RefusedOutputCleanup(const RunPlan& plan, bool active = true) : plan_(plan), active_(active) {}
  ~RefusedOutputCleanup() {
    if (active_) remove_created_directories(plan_);
  }
  RefusedOutputCleanup(const RefusedOutputCleanup&) = delete;
  RefusedOutputCleanup& operator=(const RefusedOutputCleanup&) = delete;

  /// The run got past the point of refusal: its --output stays.
  void dismiss() { active_ = false; }

 private:
  const RunPlan& plan_;
  bool active_;
};

/// The command that exports a TorchScript model from a reference checkpoint (for messages):
/// "python3 scripts/export_torchscript.py --model stage1 --checkpoint X.tar --out X.pt".
std::string export_command(const std::string& kind, const std::string& checkpoint, const std::string& out);

}  // namespace neuralom
