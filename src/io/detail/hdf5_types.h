// Between HDF5's types and dataspaces and the engine's DType and shapes, for messages and checks.
// Call these with the HDF5 lock held (io/detail/hdf5_handle.h).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "neuralom/io/hdf5_file.h"

namespace neuralom::detail {

/// Fills `info.dtype` and `info.type_description` from an HDF5 file type: IEEE floats of 16, 32
/// and 64 bits, integers, bool (h5py's two-member enum of int8); anything else is DType::kOther.
void describe_type(hid_t type, H5DatasetInfo& info);

/// The dimensions of a dataset; empty for a scalar.
std::vector<int64_t> shape_of(hid_t dataset);

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& values);

/// Checks a hyperslab against a dataset's shape before HDF5 sees it, so that the message can name
/// the offending dimension. Returns an empty string if the block fits.
std::string hyperslab_problem(const std::vector<int64_t>& shape, const std::vector<int64_t>& start,
                              const std::vector<int64_t>& count);

}  // namespace neuralom::detail
