// The JSON files neuralom writes (metrics.json, run.json, bench.json), built with nlohmann-json.
//
// Values are nlohmann::ordered_json, so that keys appear in the order they were set and the files
// read top-down. Callers that build values include <nlohmann/json.hpp>.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace neuralom {

/// The text of `value`: `indent` spaces per level (one line if `indent` < 0), NaN and ±Inf as null
/// (JSON has neither), and invalid UTF-8 in strings (a path in another encoding) replaced by U+FFFD
/// instead of failing. Never throws.
std::string json_text(const nlohmann::ordered_json& value, int indent);

/// Writes json_text(value, indent) and a final newline to `path`, under a temporary name renamed
/// into place when complete (io/output_file.h). Throws OutputError.
void write_json_file(const std::string& path, const nlohmann::ordered_json& value, int indent = 2);

}  // namespace neuralom
