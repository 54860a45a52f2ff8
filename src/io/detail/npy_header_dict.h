// The header dictionary of a .npy file: a strict parser for the Python literal numpy writes,
// e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }".
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace neuralom::detail {

/// One value of the dictionary: a string, True/False or a tuple of non-negative integers.
struct NpyHeaderValue {
  enum class Kind { kString, kBool, kTuple } kind = Kind::kString;
  std::string text;
  bool flag = false;
  std::vector<int64_t> tuple;
};

using NpyHeaderDict = std::vector<std::pair<std::string, NpyHeaderValue>>;

/// Parses "{'key': value, ...}" followed by nothing but whitespace, keys in file order. `path`
/// names the file in messages. Throws InputError ("<path>: malformed .npy header: ... at character
/// N of ..."; a list 'descr' is a structured dtype, reported as unsupported).
NpyHeaderDict parse_npy_header_dict(const std::string& path, const std::string& header);

}  // namespace neuralom::detail
