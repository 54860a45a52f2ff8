#include "io/detail/hdf5_types.h"

#include "io/detail/hdf5_handle.h"
#include "io/detail/join_shape.h"

namespace neuralom::detail {
namespace {

/// The DType of an HDF5 integer type. Unsigned integers wider than a byte have no DType of their
/// own and are reported as int64: consumers only need to know that they are numbers, which HDF5
/// converts to float on read.
DType integer_dtype(std::size_t size, bool is_signed) {
  if (!is_signed) return size == 1 ? DType::kUInt8 : DType::kInt64;
  switch (size) {
    case 1: return DType::kInt8;
    case 2: return DType::kInt16;
    case 4: return DType::kInt32;
    default: return DType::kInt64;
  }
}

}  // namespace

/// Maps an HDF5 file type to the engine's DType and a readable name.
void describe_type(hid_t type, H5DatasetInfo& info) {
  const H5T_class_t type_class = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  info.dtype = DType::kOther;
  if (type_class == H5T_FLOAT) {
    info.type_description = "float" + std::to_string(size * 8);
    if (size == 2) {
      // IEEE binary16 (NumPy's float16, as h5py writes it): HDF5 converts it to float32 exactly.
      // Other 16-bit layouts (bfloat16) are not recognised.
      std::size_t sign = 0, exponent_pos = 0, exponent_size = 0, mantissa_pos = 0, mantissa_size = 0;
      const bool fields =
          H5Tget_fields(type, &sign, &exponent_pos, &exponent_size, &mantissa_pos, &mantissa_size) >= 0;
      if (fields && sign == 15 && exponent_pos == 10 && exponent_size == 5 && mantissa_pos == 0 && mantissa_size == 10 &&
          H5Tget_ebias(type) == 15) {
        info.dtype = DType::kFloat16;
      } else {
        info.type_description = "a 16-bit float that is not IEEE float16 (bfloat16?)";
      }
    }
    if (size == 4) info.dtype = DType::kFloat32;
    if (size == 8) info.dtype = DType::kFloat64;
  } else if (type_class == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    info.type_description = (is_signed ? "int" : "uint") + std::to_string(size * 8);
    info.dtype = integer_dtype(size, is_signed);
  } else if (type_class == H5T_ENUM && H5Tget_nmembers(type) == 2 && size == 1) {
    info.dtype = DType::kBool;  // h5py stores numpy bool as a FALSE/TRUE enum of int8
    info.type_description = "bool";
  } else if (type_class == H5T_STRING) {
    info.type_description = "string";
  } else {
    info.type_description = "a non-numeric type";
  }
}

std::vector<int64_t> shape_of(hid_t dataset) {
  const Handle space(H5Dget_space(dataset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank <= 0) return {};
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  std::vector<int64_t> shape;
  for (const hsize_t d : dims) shape.push_back(static_cast<int64_t>(d));
  return shape;
}

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& values) {
  std::vector<hsize_t> out;
  for (const int64_t v : values) out.push_back(static_cast<hsize_t>(v));
  return out;
}

/// Checks a hyperslab against a dataset's shape before HDF5 sees it, so that the message can name
/// the offending dimension. Returns an empty string if the block fits.
std::string hyperslab_problem(const std::vector<int64_t>& shape, const std::vector<int64_t>& start,
                              const std::vector<int64_t>& count) {
  const std::string block = "block start " + join_shape(start) + ", count " + join_shape(count);
  if (start.size() != shape.size() || count.size() != shape.size()) {
    return block + " does not match the dataset's " + std::to_string(shape.size()) + " dimensions (shape " +
           join_shape(shape) + ")";
  }
  for (std::size_t i = 0; i < shape.size(); ++i) {
    // count > shape - start rather than start + count > shape: no overflow for absurd requests.
    if (start[i] < 0 || count[i] < 1 || start[i] > shape[i] || count[i] > shape[i] - start[i]) {
      return block + " is out of range in dimension " + std::to_string(i) + " (size " + std::to_string(shape[i]) +
             ") of a dataset of shape " + join_shape(shape);
    }
  }
  return {};
}

}  // namespace neuralom::detail
