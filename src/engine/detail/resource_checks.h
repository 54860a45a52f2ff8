// The resource checks behind plan_run(): will the outputs fit on the disk, and the run's data in
// memory? Both are estimated from the plan before anything is loaded or computed, so that a run
// that cannot finish is refused at once instead of after hours of compute.
#pragma once

#include <string>

#include "neuralom/engine/run_plan.h"

namespace neuralom::detail {

/// Bytes the run will write to its output directory: the fields file (uncompressed: D x ICs x
/// saved leads x saved channels x H x W x 4, plus the format's overhead, with D = 2 datasets,
/// prediction and truth, in HDF5 and with --save-truth, else 1), the metrics (CSV, JSON,
/// metrics.nc), the extreme-event tables and run.json. `detail` spells the product out for messages.
struct ByteEstimate {
  double bytes = 0;
  std::string detail;
};
ByteEstimate estimate_output_bytes(const RunPlan& plan);

/// A lower bound of the host memory the run needs for its data alone (the day cache of
/// batch x (prefetch + 3) normalised days, the raw slices read, the batch's input, state and
/// output, the atmosphere's state, the fields buffer); the networks' activations come on top.
ByteEstimate estimate_memory_bytes(const RunPlan& plan);

/// Compares both estimates with the free space of the output directory and the machine's usable
/// memory, and records them in the plan. Throws OutputError when the outputs cannot fit (without
/// compression; with it the estimate is an upper bound and only warned about) and InputError when
/// the data cannot fit in memory.
void check_resources(RunPlan& plan);

/// "12.3 MiB", "2.61 TiB".
std::string format_bytes(double bytes);

}  // namespace neuralom::detail
