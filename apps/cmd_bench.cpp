// `neuralom bench simulate|forecast [run options]`: a timed run with per-stage timings, reported on
// stdout and written to <output>/bench.json. Use scripts/bench.sh to generate synthetic data and
// random-init models of any size and to compare with the Python baseline.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "neuralom/cli/options.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/log.h"
#include "neuralom/core/mpi_context.h"
#include "neuralom/core/version.h"
#include "neuralom/engine/run_plan.h"
#include "neuralom/engine/runner.h"
#include "neuralom/io/json_file.h"
#include "neuralom/model/op_profile.h"
#include "neuralom/model/runtime.h"

namespace neuralom::app {
namespace {

constexpr const char* kUsage =
    "usage: neuralom bench simulate|forecast [options of that command]\n"
    "\n"
    "Runs the rollout like `neuralom simulate|forecast` (same options; --output is required and\n"
    "receives bench.json besides the usual outputs) with each stage timed separately, and reports\n"
    "seconds per day-step per stage, simulated days per second, initial conditions per hour, peak\n"
    "host memory and the share of wall time spent waiting on input. On a GPU the stages are timed\n"
    "with CUDA events (no synchronisation in the day loop); with --cuda-graphs the day-step is timed\n"
    "as a whole. See scripts/bench.sh for synthetic data and the Python baseline, scripts/gpu_check.sh\n"
    "for the GPU check.\n"
    "\n"
    "  --profile-ops   also record every operator the run calls (CPU only): calls, total and self\n"
    "                  time (without the operators it calls), summed over the rollout; prints the\n"
    "                  top 15 by self time and writes all of them to bench.json (\"operators\")\n";

/// Removes `flag` from the arguments; true if it was there.
bool take_flag(std::vector<char*>& args, const std::string& flag) {
  const auto it = std::find_if(args.begin(), args.end(), [&flag](const char* a) { return flag == a; });
  if (it == args.end()) return false;
  args.erase(it);
  return true;
}

constexpr std::size_t kTopOperators = 15;

}  // namespace

int run_bench(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cout << kUsage;
    return argc < 2 ? kExitBadInput : kExitOk;
  }
  const std::string mode_name = argv[1];
  if (mode_name != "simulate" && mode_name != "forecast") {
    throw ConfigError("neuralom bench: expected 'simulate' or 'forecast', got '" + mode_name + "'");
  }
  const RunMode mode = mode_name == "simulate" ? RunMode::kSimulate : RunMode::kForecast;
  const MpiContext team(nullptr, nullptr);
  if (team.size() > 1) {
    throw ConfigError("neuralom bench times one process: run it without mpirun (" + std::to_string(team.size()) +
                      " ranks would each time the whole run)");
  }
  std::vector<char*> args(argv + 1, argv + argc);
  const bool profile_ops = take_flag(args, "--profile-ops");
  const RunCommand command = parse_run_command(mode, static_cast<int>(args.size()), args.data());
  if (command.help) {
    std::cout << command.help_text;
    return kExitOk;
  }
  init_logging(command.settings.log_level);
  const RunPlan plan = plan_run(command.settings);
  if (profile_ops && !plan.device.is_cpu()) {
    throw ConfigError("neuralom bench --profile-ops times operators on the CPU; on " + plan.device.str() +
                      " they return before their kernels finish (use NVIDIA Nsight Systems there, or --device cpu)");
  }
  ExecuteOptions options;
  options.time_stages = true;
  std::unique_ptr<OpProfile> profile;
  if (profile_ops) options.before_rollout = [&profile] { profile = std::make_unique<OpProfile>(); };
  const RunReport report = execute_run(plan, options);
  const std::vector<OpTime> operators = profile ? profile->stop() : std::vector<OpTime>{};

  const RolloutStats& st = report.stats;
  const double steps = static_cast<double>(st.day_steps);
  const double days_per_second = st.total_seconds > 0 ? static_cast<double>(st.ic_days) / st.total_seconds : 0.0;
  const double ics_per_hour = days_per_second * 3600.0 / static_cast<double>(plan.last_lead());
  const double io_share = st.total_seconds > 0 ? st.io_wait_seconds / st.total_seconds : 0.0;
  const double compute_share = st.total_seconds > 0 ? st.model_seconds / st.total_seconds : 0.0;

  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["neuralom"] = version_line();
  j["mode"] = mode_name;
  j["device"] = plan.device.str();
  j["threads"] = configure_threads(plan.settings.threads);
  j["blas"] = detect_blas().name;
  j["grid"] = std::vector<int64_t>{plan.height, plan.width};
  j["batch"] = plan.settings.batch;
  j["precision"] = precision_name(plan.settings.precision);
  j["cuda_graphs"] = plan.settings.cuda_graphs;
  j["initial_conditions"] = static_cast<int64_t>(plan.settings.ics.size());
  j["prediction_length"] = plan.settings.prediction_length;
  j["day_steps"] = st.day_steps;
  nlohmann::ordered_json stages = nlohmann::ordered_json::array();
  std::ostringstream stage_text;
  for (std::size_t k = 0; k < report.stage_seconds.size(); ++k) {
    if (plan.settings.cuda_graphs) {  // one graph holds all stages: no per-stage times
      stages.push_back(nullptr);
      stage_text << "  stage " << k + 1 << ":                 (in the CUDA graph)\n";
      continue;
    }
    const double per_step = steps > 0 ? report.stage_seconds[k] / steps : 0.0;
    stages.push_back(per_step);
    stage_text << "  stage " << k + 1 << ":                 " << per_step << " s per day-step\n";
  }
  j["seconds_per_day_step_per_stage"] = stages;
  j["seconds_per_day_step"] = steps > 0 ? st.model_seconds / steps : 0.0;
  // Without the first kWarmupSteps day-steps: TorchScript's profiling runs and, with
  // --cuda-graphs, the eager warm-up and the capture (StagePipeline::enable_cuda_graphs).
  constexpr std::size_t kWarmupSteps = 4;
  j["day_step_seconds"] = report.step_seconds;
  if (report.step_seconds.size() > kWarmupSteps) {
    double sum = 0.0;
    for (std::size_t i = kWarmupSteps; i < report.step_seconds.size(); ++i) sum += report.step_seconds[i];
    j["seconds_per_day_step_after_warmup"] = sum / static_cast<double>(report.step_seconds.size() - kWarmupSteps);
  } else {
    j["seconds_per_day_step_after_warmup"] = nullptr;
  }
  j["atmosphere_seconds_per_day_step"] = steps > 0 ? st.forcing_seconds / steps : 0.0;
  j["simulated_days_per_second"] = days_per_second;
  j["initial_conditions_per_hour"] = ics_per_hour;
  j["wall_seconds"] = st.total_seconds;
  j["setup_seconds"] = report.setup_seconds;
  j["io_wait_seconds"] = st.io_wait_seconds;
  j["io_wait_share"] = io_share;
  j["model_compute_share"] = compute_share;
  j["peak_host_gib"] = report.peak_host_gib;
  const double device_gib = peak_device_gib(plan.device);
  j["peak_device_gib"] = device_gib >= 0 ? nlohmann::ordered_json(device_gib) : nlohmann::ordered_json(nullptr);
  std::ostringstream ops_text;
  if (profile_ops) {
    double self_sum = 0.0;
    for (const OpTime& op : operators) self_sum += op.self_seconds;
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const OpTime& op : operators) {
      nlohmann::ordered_json o = nlohmann::ordered_json::object();
      o["name"] = op.name;
      o["calls"] = op.calls;
      o["self_seconds"] = op.self_seconds;
      o["total_seconds"] = op.total_seconds;
      ops.push_back(o);
    }
    j["operators"] = ops;
    j["operators_self_seconds"] = self_sum;
    ops_text << "  operators by self time, seconds per day-step (share of " << self_sum
             << " s in operators, all threads, the whole rollout):\n";
    char line[200];
    for (std::size_t i = 0; i < operators.size() && i < kTopOperators; ++i) {
      const OpTime& op = operators[i];
      std::snprintf(line, sizeof line, "    %-32s %10.4f s %6.1f %%  %10.1f calls\n", op.name.c_str(),
                    steps > 0 ? op.self_seconds / steps : 0.0, self_sum > 0 ? 100.0 * op.self_seconds / self_sum : 0.0,
                    steps > 0 ? static_cast<double>(op.calls) / steps : 0.0);
      ops_text << line;
    }
  }
  const std::string path = plan.settings.output_dir + "/bench.json";
  write_json_file(path, j);

  std::cout << "benchmark (" << mode_name << ", " << plan.height << "x" << plan.width << ", " << plan.device.str()
            << ", batch " << plan.settings.batch << ", " << st.day_steps << " day-steps)\n"
            << stage_text.str() << "  all stages" << (plan.atmos ? " + atmosphere" : "") << ":    "
            << (steps > 0 ? st.model_seconds / steps : 0.0) << " s per day-step\n"
            << "  simulated days/s:        " << days_per_second << "\n"
            << "  initial conditions/hour: " << ics_per_hour << " (" << plan.last_lead() << "-day rollouts)\n"
            << "  peak host memory:        " << report.peak_host_gib << " GiB\n"
            << "  waiting on input:        " << 100.0 * io_share << " % of " << st.total_seconds << " s wall\n"
            << "  in model compute:        " << 100.0 * compute_share << " %\n"
            << ops_text.str()
            << "wrote " << path << "\n";
  return kExitOk;
}

}  // namespace neuralom::app
