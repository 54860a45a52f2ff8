// Normalisation of one day of input data, exactly as the reference does it:
//
//   Z = nan_to_num(((X − C) − mean[c]) / std[c])        cast to float32
//
// X − C is computed in the wider of the two element types (float32 − float32 stays float32 and
// float16 − float16 float16, as in NumPy), the rest in float64 because the statistics are
// float64. NaN (land in the data) → 0; ±Inf stay ±Inf after the float32 cast, as NumPy's
// nan_to_num followed by the reference's cast.
#pragma once

#include <ATen/core/Tensor.h>

#include "neuralom/data/stats.h"

namespace neuralom {

/// `x`: CPU `[n, H, W]` float16, float32 or float64; `climatology`: the same shape (any of the three)
/// or an undefined tensor for none; `stats`: n channels. Returns float32 `[n, H, W]`, in pinned
/// host memory if `pin_memory` (for asynchronous copies to a GPU).
/// Throws std::invalid_argument on shape or dtype mismatches (callers validate inputs first).
at::Tensor normalise_day(const at::Tensor& x, const at::Tensor& climatology, const NormStats& stats,
                         bool pin_memory = false);

/// The inverse for outputs: `x * std[c] + mean[c]` computed in float64 from a float32 `[.., n, H, W]`
/// tensor (any device), as the reference de-normalises (float32 buffer × float64 statistics).
/// `mean` and `std` are float64 `[n]` tensors on the same device. Returns float64.
at::Tensor denormalise(const at::Tensor& x, const at::Tensor& mean, const at::Tensor& std);

}  // namespace neuralom
