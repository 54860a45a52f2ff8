// Fuzz target: the argument parsing of `neuralom simulate|forecast` (cli/options, over cxxopts)
// and the resolution of the flags into run settings (cli/settings). The input is the argument
// list, one argument per line; the first byte picks the mode. Bad usage must end in a
// ConfigError (exit code 2), never in another exception, a crash or a huge allocation; accepted
// settings must satisfy the invariants the engine relies on.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "neuralom/cli/options.h"
#include "neuralom/core/log.h"

using namespace neuralom;

namespace {

[[maybe_unused]] const bool kQuiet = (init_logging("off"), true);
constexpr std::size_t kMaxArgs = 64;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz: accepted settings with %s\n", what);
  std::abort();
}

void check_invariants(const RunSettings& s) {
  if (s.prediction_length < 2) finding("a prediction length below 2");
  if (s.batch < 1) finding("a batch below 1");
  if (s.prefetch < 1) finding("no prefetch");
  if (s.ics.empty() || s.in_channels.empty()) finding("an empty index list");
  if (s.compression < 0 || s.compression > 9) finding("a compression level outside 0..9");
  if (s.threads < 0) finding("a negative thread count");
  if (s.atmos_steps_per_day < 1) finding("no atmosphere steps per day");
  for (const auto* list : {&s.ics, &s.in_channels, &s.ocean_channels, &s.atmos_channels, &s.out_channels}) {
    for (const int64_t i : *list) {
      if (i < 0) finding("a negative index");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const RunMode mode = (data[0] & 1) != 0 ? RunMode::kForecast : RunMode::kSimulate;
  std::vector<std::string> args{run_mode_name(mode)};
  std::string current;
  for (std::size_t i = 1; i < size; ++i) {
    if (data[i] == '\n') {
      args.push_back(current);
      current.clear();
    } else {
      current.push_back(static_cast<char>(data[i]));
    }
  }
  if (!current.empty()) args.push_back(current);
  if (args.size() > kMaxArgs) return 0;
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  try {
    const RunCommand command = parse_run_command(mode, static_cast<int>(args.size()), argv.data());
    if (!command.help) check_invariants(command.settings);
  } catch (const Error&) {
    // Refused with a message.
  }
  return 0;
}
