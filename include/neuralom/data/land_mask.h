// The ocean/land mask: per channel (depth-dependent coast lines), True = ocean.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace neuralom {

/// Reads `<file>:/fields` `[≥1, ≥C, ≥H, ≥W]` (any real dtype) and returns a bool CPU tensor
/// `[len(channels), H, W]`: element `[i, r, c]` is true (ocean) where `fields[0, channels[i], r, c]`
/// is non-zero, as the reference (a NaN also counts as ocean). Throws InputError if the file or
/// dataset is missing or too small, naming the expected and found shapes.
at::Tensor read_land_mask(const std::string& path, const std::vector<int64_t>& channels, int64_t height,
                          int64_t width);

}  // namespace neuralom
