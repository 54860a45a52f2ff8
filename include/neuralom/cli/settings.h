// How the run settings of `neuralom simulate` / `neuralom forecast` (engine/run_settings.h) are
// resolved from their three sources: command-line flags over a configuration file over built-in
// defaults.
//
// Flags and configuration keys share one vocabulary: `--prediction-length` is the key
// `prediction_length`; data paths reuse the reference's key names (`test_data_path`,
// `land_mask_path`, `global_means_path`, ...). See configs/README.md for the file format.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "neuralom/engine/run_settings.h"

namespace neuralom {

/// One source of settings: key → value text (lists as comma-separated text), with where each
/// value came from for error messages ("--ics", "configs/demo.yaml: ics").
struct SettingsLayer {
  struct Entry {
    std::string value;
    std::string origin;
    std::string base_dir;  ///< relative paths in this value are relative to it ("" = as given)
  };
  std::map<std::string, Entry> entries;

  bool has(const std::string& key) const { return entries.count(key) != 0; }
  const Entry* find(const std::string& key) const;
  void set(const std::string& key, std::string value, std::string origin, std::string base_dir = "");
};

/// Builds settings for `mode` from flags over a configuration layer over defaults.
/// Throws ConfigError naming the offending flag or key.
RunSettings resolve_settings(RunMode mode, const SettingsLayer& flags, const SettingsLayer& config);

/// Upper bounds of settings whose absurd values would otherwise exhaust memory or overflow: index
/// lists (initial conditions, channels, leads), CPU threads, days read ahead, atmosphere sub-steps.
inline constexpr int64_t kMaxIndices = int64_t{1} << 20;
inline constexpr int64_t kMaxThreads = 4096;
inline constexpr int64_t kMaxPrefetch = 1024;
inline constexpr int64_t kMaxSubsteps = 1024;

/// Parses an index specification: "0:240" (half-open range), "0:240:10" (with step), "5",
/// lists of those separated by commas ("0,5,10:12"). `what` names the setting in messages.
/// Throws ConfigError, also for lists of more than kMaxIndices indices.
std::vector<int64_t> parse_index_spec(const std::string& text, const std::string& what);

/// The reference's variable names: S, U, V, T at 23 depths each, then SSH (93 names).
std::vector<std::string> reference_out_variables();

}  // namespace neuralom
