// The CF outputs of a run (--format netcdf|zarr): the fields writer of the plan's format with the
// cache of climatology days it needs for absolute values, and the global attributes that every
// NetCDF output carries (provenance: model, checkpoints, engine, data, history).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "neuralom/data/day_cache.h"
#include "neuralom/data/fields.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/verify/fields_writer.h"

namespace neuralom {

/// Global attributes of the NetCDF outputs: title, institution, source (the model and the SHA-256
/// of each checkpoint), references, history, the engine version, the mode and the data files.
std::vector<std::pair<std::string, std::string>> cf_global_attributes(const RunPlan& plan);

/// Creates a fields writer of the plan's format (results_*.h5, .nc or .zarr under a .partial name)
/// at `path` for the initial conditions `ics`: the plan's whole list for the run's fields file, one
/// batch's for a part. `ocean_mask`: bool `[C, H, W]` of the output channels. Throws ConfigError,
/// OutputError.
std::unique_ptr<FieldsWriter> open_fields_writer(const RunPlan& plan, const at::Tensor& ocean_mask,
                                                 const std::string& path, std::vector<int64_t> ics);

/// The file-name extension of the plan's fields file: ".h5", ".nc" or ".zarr".
std::string fields_extension(const RunPlan& plan);

/// True if the plan's fields file holds absolute values (CF formats without --anomalies).
bool fields_want_absolute_values(const RunPlan& plan);

/// The climatology days of the saved channels, `[saved, H, W]` per valid day, that absolute values
/// need (FieldsSink); null when the fields hold anomalies.
std::unique_ptr<DayCache> open_saved_climatology(const RunPlan& plan, std::shared_ptr<const Climatology> climatology);

}  // namespace neuralom
