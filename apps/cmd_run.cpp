// `neuralom simulate` and `neuralom forecast`: parse, validate everything, run, print the summary —
// as one process, or as every rank of an MPI job (`mpirun -np N neuralom simulate ...`).
#include <algorithm>
#include <iostream>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "neuralom/cli/options.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/log.h"
#include "neuralom/core/mpi_context.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"
#include "neuralom/model/runtime.h"
#include "neuralom/verify/metrics_report.h"

namespace neuralom::app {
namespace {

/// Leads shown on the terminal: 1, 10, 30 and the last (those that exist).
std::vector<int64_t> summary_leads(int64_t last) {
  std::vector<int64_t> leads;
  for (const int64_t l : {int64_t{1}, int64_t{10}, int64_t{30}, last}) {
    if (l >= 1 && l <= last && std::find(leads.begin(), leads.end(), l) == leads.end()) leads.push_back(l);
  }
  return leads;
}

int run(RunMode mode, int argc, char** argv) {
  // Joins the MPI job when started by mpirun/srun; otherwise a job of this process alone.
  MpiContext team(nullptr, nullptr);
  RunCommand command;
  RunPlan plan;
  // Every rank parses and validates; all stop together if any fails (rank 0 prints the message, and
  // removes the --output it created when another rank was the one refused).
  RefusedOutputCleanup refused(plan, team.is_root());
  team.run_collectively([&] {
    command = parse_run_command(mode, argc, argv);
    if (command.help) return;
    RunSettings& s = command.settings;
    if (team.size() > 1) {
      s.resume_command = "mpirun -np " + std::to_string(team.size()) + " " + s.resume_command;
      s.device = device_for_local_rank(s.device, team.local_rank(), team.local_size());
      s.threads = threads_for_local_rank(s.threads, team.local_size());
      s.output_owned_elsewhere = !team.is_root();
    }
    init_logging(s.log_level, team.rank());
    plan = plan_run(s);
  });
  refused.dismiss();
  if (command.help || command.settings.dry_run) {
    if (!team.is_root()) return kExitOk;
    if (command.help) {
      std::cout << command.help_text;
    } else {
      std::cout << "Inputs and models are valid. Plan (nothing was run):\n" << plan.describe();
    }
    return kExitOk;
  }
  const RunReport report = execute_run(plan, ExecuteOptions{}, team);
  if (!team.is_root()) return kExitOk;

  const auto& st = report.stats;
  std::cout << "\n"
            << format_summary(report.metrics, summary_leads(plan.last_lead()), {"S0", "U0", "V0", "T0", "SSH"});
  std::cout << "Simulated " << st.ic_days << " IC-days in " << st.day_steps << " day-steps: "
            << (st.day_steps > 0 ? st.model_seconds / static_cast<double>(st.day_steps) : 0.0)
            << " s per day-step in the models, " << st.total_seconds << " s in all (I/O wait " << st.io_wait_seconds
            << " s), peak memory " << report.peak_host_gib << " GiB"
            << (team.size() > 1 ? " (rank 0), on " + std::to_string(team.size()) + " MPI ranks" : std::string())
            << ".\n";
  const ShardSpec& shard = plan.settings.shard;
  if (shard.sharded()) {
    std::cout << "Shard " << shard.str() << " finished; its batches are journaled in:\n";
    for (const auto& f : report.files) std::cout << "  " << f << "\n";
    std::cout << "When all " << shard.count << " shards have finished, combine them:\n"
              << "  neuralom merge DIR_0 ... DIR_" << shard.count - 1 << " --output FINAL_DIR\n";
    return kExitOk;
  }
  std::cout << "Wrote:\n";
  for (const auto& f : report.files) std::cout << "  " << f << "\n";
  return kExitOk;
}

}  // namespace

int run_simulate(int argc, char** argv) { return run(RunMode::kSimulate, argc, argv); }
int run_forecast(int argc, char** argv) { return run(RunMode::kForecast, argc, argv); }

}  // namespace neuralom::app
