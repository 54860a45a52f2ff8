// The settings that decide what a run computes, as JSON: the journal's record of a run
// (engine/journal.h), compared key by key when a run is resumed and read back by `neuralom merge`.
//
// Recorded: inputs (as absolute paths), models, ICs, lengths, channels, what is saved and scored,
// the format, and the execution settings that can change the numbers (batch, static cache, edge
// chunking). Not recorded: where the outputs go, the device, threads, prefetching, logging and the
// shard — a run may be resumed with other values of these.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "neuralom/engine/run_settings.h"

namespace neuralom {

/// The recorded settings of `settings`, keys in a fixed order. Never throws.
nlohmann::ordered_json result_settings_json(const RunSettings& settings);

/// Settings with the recorded values of `json` and defaults elsewhere. Throws InputError naming
/// `origin` and the key for a missing or malformed value.
RunSettings settings_from_json(const nlohmann::ordered_json& json, const std::string& origin);

/// The first key of `a` or `b` whose values differ (a key missing from one counts), "" if none.
std::string first_difference(const nlohmann::ordered_json& a, const nlohmann::ordered_json& b);

}  // namespace neuralom
