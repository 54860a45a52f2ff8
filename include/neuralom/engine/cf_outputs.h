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

/// The fields file of a run and what feeds it.
struct FieldsOutput {
  std::unique_ptr<FieldsWriter> writer;
  std::unique_ptr<DayCache> climatology;  ///< climatology days of the saved channels, when absolute values are written
};

/// Creates the plan's fields writer (results_*.h5, .nc or .zarr under a .partial name).
/// `ocean_mask`: bool `[C, H, W]` of the output channels. Throws ConfigError, OutputError.
FieldsOutput open_fields_output(const RunPlan& plan, const at::Tensor& ocean_mask,
                                std::shared_ptr<const Climatology> climatology);

}  // namespace neuralom
