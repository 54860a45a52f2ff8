// Command-line options of `neuralom simulate` and `neuralom forecast`: one table of flags, each
// mapped to a settings key (cli/settings.h), parsed in-process so that tests can drive it.
#pragma once

#include <string>
#include <vector>

#include "neuralom/cli/settings.h"

namespace neuralom {

struct RunCommand {
  bool help = false;      ///< --help was given: print help_text and exit 0
  std::string help_text;
  RunSettings settings;   ///< valid unless help
};

/// Parses `argv` (argv[0] = the subcommand name) for `mode`: flags, then the configuration they
/// name (--config-file [--config SECTION], or --exp-dir/--config/--run-num/--finetune-dir), then
/// defaults. Throws ConfigError for unknown flags, missing values and invalid values.
RunCommand parse_run_command(RunMode mode, int argc, const char* const* argv);

}  // namespace neuralom
