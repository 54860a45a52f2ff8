// Executes a validated run plan: loads the models, mask and statistics, wires the reader, cache,
// forcing, rollout and sinks together, and writes metrics.csv, metrics.json, run.json
// (provenance.h) and (optionally) the fields file. This is the whole of `neuralom simulate` / `neuralom forecast`
// after argument parsing.
#pragma once

#include <string>
#include <vector>

#include "neuralom/engine/rollout.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/verify/extremes.h"
#include "neuralom/verify/metrics.h"

namespace neuralom {

struct RunReport {
  std::vector<MetricsTable> metrics;  ///< the model first, then the baselines if requested
  std::vector<ExtremesTable> extremes;  ///< with --extremes: the model first, then the baselines
  RolloutStats stats;
  double setup_seconds = 0.0;         ///< loading models, mask, statistics
  double peak_host_gib = 0.0;         ///< peak resident memory of the process
  int threads = 0;                    ///< intra-op threads used
  std::vector<double> stage_seconds;  ///< per stage model, when ExecuteOptions::time_stages
  std::vector<std::string> files;     ///< outputs written
};

struct ExecuteOptions {
  bool time_stages = false;  ///< time each stage separately (synchronises the device; benchmarks)
};

/// Runs the plan. Throws the library's errors; on failure no output looks complete (outputs are
/// renamed into place only at the end).
RunReport execute_run(const RunPlan& plan, const ExecuteOptions& options = {});

}  // namespace neuralom
