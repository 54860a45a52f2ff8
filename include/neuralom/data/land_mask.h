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

/// The grid nodes `r * W + c` that are ocean in at least one channel of `ocean_mask` (bool
/// `[C, H, W]`), increasing, as an int64 CPU tensor. Only these need a model output: the others
/// are land in every channel, and the stage pipeline sets them to 0.
at::Tensor ocean_nodes(const at::Tensor& ocean_mask);

}  // namespace neuralom
