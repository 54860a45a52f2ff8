// `neuralom simulate` and `neuralom forecast`: parse, validate everything, run, print the summary.
#include <algorithm>
#include <iostream>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "neuralom/cli/options.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/log.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"
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
  const RunCommand command = parse_run_command(mode, argc, argv);
  if (command.help) {
    std::cout << command.help_text;
    return kExitOk;
  }
  init_logging(command.settings.log_level);
  const RunPlan plan = plan_run(command.settings);
  if (command.settings.dry_run) {
    std::cout << "Inputs and models are valid. Plan (nothing was run):\n" << plan.describe();
    return kExitOk;
  }
  const RunReport report = execute_run(plan);
  const auto& st = report.stats;
  std::cout << "\n"
            << format_summary(report.metrics, summary_leads(plan.last_lead()), {"S0", "U0", "V0", "T0", "SSH"});
  std::cout << "Simulated " << st.ic_days << " IC-days in " << st.day_steps << " day-steps: "
            << (st.day_steps > 0 ? st.model_seconds / static_cast<double>(st.day_steps) : 0.0)
            << " s per day-step in the models, " << st.total_seconds << " s in all (I/O wait " << st.io_wait_seconds
            << " s), peak memory " << report.peak_host_gib << " GiB.\n";
  std::cout << "Wrote:\n";
  for (const auto& f : report.files) std::cout << "  " << f << "\n";
  return kExitOk;
}

}  // namespace

int run_simulate(int argc, char** argv) { return run(RunMode::kSimulate, argc, argv); }
int run_forecast(int argc, char** argv) { return run(RunMode::kForecast, argc, argv); }

}  // namespace neuralom::app
