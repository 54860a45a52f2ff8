// Numbers from text, all or nothing: "12" is 12, "12x", "" and "1e999" are not numbers. For flags,
// configuration values and CSV cells, whose messages then say where the text came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace neuralom {

/// A whole decimal integer that fits int64 (surrounding blanks are not allowed). Never throws.
std::optional<int64_t> parse_integer(const std::string& text);

/// A finite real number as strtod reads it ("0.9", "-1e-3"). Never throws.
std::optional<double> parse_real(const std::string& text);

}  // namespace neuralom
