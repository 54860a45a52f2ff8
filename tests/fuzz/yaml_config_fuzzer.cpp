// Fuzz target: the YAML configuration loader (cli/config) — neuralom's --config-file and the
// reference's exp/<config>/<run>/config.yaml (its section NeuralOM) — including anchors,
// aliases and merge keys (`<<: *base`), then the resolution of the values into run settings
// (cli/settings: integers, booleans, index ranges, paths). Anything but a ConfigError (or a
// settings error derived from neuralom::Error) escaping is a finding.
#include <cstdint>
#include <filesystem>

#include "fuzz_support.h"
#include "neuralom/cli/config.h"
#include "neuralom/cli/settings.h"
#include "neuralom/core/log.h"

using namespace neuralom;

namespace {

// Unknown keys are logged as warnings; logging every input would dominate the run time.
[[maybe_unused]] const bool kQuiet = (init_logging("off"), true);

void load_and_resolve(const std::string& path, const std::string& section, RunMode mode) {
  try {
    const SettingsLayer layer = load_config_file(path, section);
    (void)resolve_settings(mode, SettingsLayer{}, layer);
  } catch (const Error&) {
    // Refused with a message.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  // One file serves both readers: it is where the reference's layout puts it,
  // <exp>/<config>/<run>/config.yaml, and any path will do for --config-file.
  const std::string path = fuzz::write_file("exp/NeuralOM/1/config.yaml", data, size);
  load_and_resolve(path, "", RunMode::kSimulate);

  // The reference's layout: section <config> of that file.
  ReferenceExperiment experiment;
  experiment.exp_dir = (fuzz::scratch_dir() / "exp").string();
  experiment.run_num = std::string("1");  // not = "1": GCC 12 -std=c++20 warns falsely (-Wrestrict, PR 105329)
  try {
    (void)resolve_settings(RunMode::kSimulate, SettingsLayer{}, load_reference_experiment(experiment));
  } catch (const Error&) {
  }
  return 0;
}
