// The final outputs of a run, from the records of all its batches (engine/batch_record.h) — however
// the batches were run: by one process, by MPI ranks, by independent shards, across interruptions.
// This is the one way the final outputs are written; `neuralom simulate|forecast` ends here, and
// `neuralom merge` is this over the journals of shard directories.
//
// Fields: every batch wrote its frames to a part file in the run's format; the final
// results_<mode>.h5 (.nc, .zarr) is created with the whole run's layout and the parts' frames are
// copied into it in IC order, unchanged, one frame at a time. One self-contained file in the
// reference layout, rather than an HDF5 virtual dataset over the parts, because: a virtual dataset
// breaks when its file is moved or copied without the parts beside it; netCDF-C, xarray's NetCDF
// engines and Zarr have no such view; Debian's HDF5 is serial, so no rank can write a shared file
// in parallel anyway; and the copy, once per run, is sequential I/O small next to the compute.
//
// Metrics: each system's table from the per-IC sums summed in IC order (verify/metrics.h), so the
// numbers are those of a single uninterrupted process whatever the batching of the work, the
// number of ranks or shards and the interruptions. Extreme-event counts are integers.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include <nlohmann/json.hpp>

#include "neuralom/engine/batch_record.h"
#include "neuralom/engine/provenance.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"

namespace neuralom {

/// Sorts `records` by batch and checks that they are exactly the plan's batches (ic_partition.h):
/// one record per batch, with that batch's slots and ICs. Throws InputError naming the first batch
/// missing (with its ICs) or a record that does not belong to this run.
void check_complete(const RunPlan& plan, std::vector<BatchRecord>& records);

/// Each system's metrics table from complete records in batch order (IC order within);
/// `ocean_mask` (read_land_mask of the output channels) tells which variables can be scored.
std::vector<MetricsTable> reduce_metrics(const RunPlan& plan, const std::vector<BatchRecord>& records,
                                         const at::Tensor& ocean_mask);
/// Each system's extreme-event table (`spec` with its thresholds).
std::vector<ExtremesTable> reduce_extremes(const RunPlan& plan, const std::vector<BatchRecord>& records,
                                           const ExtremesSpec& spec);

/// Writes the plan's final outputs from the records of all its batches (any order): the fields
/// file from the parts, metrics.csv/.json (+ metrics.nc), extremes.csv/.json, run.json (with the
/// `run_extra` entries). `report` brings the setup figures; the metrics, extremes, timings (the sum
/// of the batches') and files are filled in. Throws InputError (a batch missing, a part unreadable),
/// OutputError.
RunReport write_final_outputs(const RunPlan& plan, std::vector<BatchRecord> records, const ExtremesSpec& extremes,
                              RunProvenance& provenance, RunReport report, const nlohmann::ordered_json& run_extra);

/// `neuralom merge`: the final outputs of a run from the journals of the directories its shards
/// wrote (`--shard K/N`), in `output`. The shards must be of one run (the same settings
/// fingerprint) and together hold every batch; the inputs must still be where the shards read them
/// (the plan is validated again). Throws InputError naming a directory, batch or setting,
/// OutputError.
RunReport merge_run_directories(const std::vector<std::string>& directories, const std::string& output, bool overwrite);

}  // namespace neuralom
