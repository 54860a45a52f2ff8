// The check that a model output holds no NaN or Inf: an error by default, a warning on request.
#pragma once

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace neuralom {

/// `x`: a model output `[B, C, H, W]` (any device, floating point). Throws NumericalError if it
/// holds NaN or Inf, naming `what` (e.g. "prediction for lead day 12 of IC 5"), the first affected
/// channels (with their `channel_names` where given) and the counts. With `warn_only`, logs a
/// warning instead and returns false. Returns true if all values are finite.
bool check_finite(const at::Tensor& x, const std::string& what, const std::vector<std::string>& channel_names,
                  bool warn_only = false);

}  // namespace neuralom
