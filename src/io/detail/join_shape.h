// Shapes in messages: "[365, 97, 361, 720]".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuralom::detail {

inline std::string join_shape(const std::vector<int64_t>& values) {
  std::string s = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(values[i]);
  }
  return s + "]";
}

}  // namespace neuralom::detail
