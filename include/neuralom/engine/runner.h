// Executes a validated run plan: loads the models, mask and statistics, wires the reader, cache,
// forcing, rollout and sinks together, runs the batches of initial conditions this process has to
// run, journals each (engine/journal.h), and writes metrics.csv, metrics.json, run.json
// (provenance.h) and (optionally) the fields file from the journaled batches (engine/merge.h). This
// is the whole of `neuralom simulate` / `neuralom forecast` after argument parsing.
//
// In an MPI job (core/mpi_context.h) rank 0 opens the journal, decides which batches remain
// (all of them, those of a --shard, those a --resume finds unfinished) and computes the extreme
// thresholds; every rank runs a contiguous block of the remaining batches (engine/ic_partition.h),
// reading only the days its ICs need and writing its fields parts and batch records into the
// shared journal; after each round of batches the ranks agree on errors and progress; rank 0
// gathers the records over MPI and writes the final outputs. A shard stops at its journal, which
// `neuralom merge` combines with the others'.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "neuralom/core/mpi_context.h"
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
  std::vector<double> step_seconds;   ///< each day-step's model time on this rank, in order
  std::vector<std::string> files;     ///< outputs written
};

struct ExecuteOptions {
  bool time_stages = false;  ///< time each stage separately (synchronises the device; benchmarks)
  /// Called once the models are loaded and the inputs opened, just before the first batch runs
  /// (`neuralom bench --profile-ops` starts its operator profile there).
  std::function<void()> before_rollout;
};

/// Runs the plan as one rank of `team` (every rank calls it with the same plan). Throws the
/// library's errors — in a job of several ranks a PeerError on every rank when any fails —;
/// Interrupted on SIGINT/SIGTERM, after the current day-step, with the command that resumes the
/// run. On failure no output looks complete (outputs are renamed into place only at the end) and
/// the journal keeps every finished batch. The report is complete on rank 0 only.
RunReport execute_run(const RunPlan& plan, const ExecuteOptions& options, MpiContext& team);

/// Runs the plan in this process alone.
RunReport execute_run(const RunPlan& plan, const ExecuteOptions& options = {});

}  // namespace neuralom
