// `neuralom merge DIR... --output OUT`: the final outputs of a run whose shards (--shard K/N) ran
// separately, e.g. as the tasks of a job array — the same files and numbers as one process.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "commands.h"
#include "parse_options.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/log.h"
#include "neuralom/engine/merge.h"
#include "neuralom/verify/metrics_report.h"

namespace neuralom::app {

int run_merge(int argc, char** argv) {
  cxxopts::Options options("neuralom merge",
                           "Combine the output directories of the shards of one run (neuralom simulate|forecast "
                           "--shard K/N) into its final outputs: the fields file, metrics, extremes and run.json, "
                           "identical to those of the run done by one process.");
  options.custom_help("--output DIR [options]");
  options.set_width(110);
  options.add_options()
      ("output", "directory of the final outputs (not one of the shard directories)", cxxopts::value<std::string>(), "DIR")
      ("overwrite", "replace the outputs of an earlier merge or run in --output")
      ("log-level", "trace, debug, info, warn, error (default: $NEURALOM_LOG_LEVEL or info)",
       cxxopts::value<std::string>(), "LEVEL")
      ("h,help", "show this help")
      ("directories", "shard output directories", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"directories"});
  options.positional_help("SHARD_DIR...");
  const cxxopts::ParseResult args = parse_options(options, argc, argv);
  if (args.count("help") != 0U) {
    std::cout << options.help({""});
    return kExitOk;
  }
  init_logging(option_or<std::string>(args, "log-level", ""));
  if (args.count("output") == 0U) throw ConfigError("neuralom merge: pass --output DIR (see `neuralom merge --help`)");
  if (args.count("directories") == 0U) {
    throw ConfigError("neuralom merge: name the shard directories to merge (see `neuralom merge --help`)");
  }
  const RunReport report = merge_run_directories(args["directories"].as<std::vector<std::string>>(),
                                                 args["output"].as<std::string>(), args.count("overwrite") != 0U);
  std::vector<int64_t> leads;
  if (!report.metrics.empty()) {
    for (const int64_t l : report.metrics.front().leads) {
      if (l == 1 || l == 10 || l == 30 || l == report.metrics.front().leads.back()) leads.push_back(l);
    }
  }
  std::cout << format_summary(report.metrics, leads, {"S0", "U0", "V0", "T0", "SSH"});
  std::cout << "Merged " << report.stats.ic_days << " IC-days. Wrote:\n";
  for (const auto& f : report.files) std::cout << "  " << f << "\n";
  return kExitOk;
}

}  // namespace neuralom::app
