#include "neuralom/data/land_mask.h"

#include <sstream>

#include <ATen/ATen.h>

#include "neuralom/core/errors.h"
#include "neuralom/data/fields.h"

namespace neuralom {

at::Tensor read_land_mask(const std::string& path, const std::vector<int64_t>& channels, int64_t height,
                          int64_t width) {
  const FieldsFile file(path);
  const FieldsShape& s = file.shape();
  int64_t max_channel = -1;
  for (const int64_t c : channels) max_channel = std::max(max_channel, c);
  if (s.times < 1 || s.channels <= max_channel || s.rows < height || s.cols < width) {
    std::ostringstream msg;
    msg << path << ":/fields has shape " << s.shape_string() << ", expected at least [1, " << max_channel + 1
        << ", " << height << ", " << width << "] (a mask for every output channel on the model's grid)";
    throw InputError(msg.str());
  }
  // Read the span of channels once, then pick (the reference indexes the mask by output channel).
  const at::Tensor all = file.read(0, 0, max_channel + 1, height, width);
  const at::Tensor index = at::tensor(channels, at::kLong);
  // Non-zero is ocean; NaN != 0 is true as well, as in NumPy.
  return all.index_select(0, index).ne(0).contiguous();
}

at::Tensor ocean_nodes(const at::Tensor& ocean_mask) {
  return ocean_mask.to(at::kCPU).any(0).flatten().nonzero().squeeze(1).contiguous();
}

}  // namespace neuralom
