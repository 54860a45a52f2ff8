// Element types of arrays in .npy and HDF5 files.
//
// Kept apart from npy.h so that the HDF5 layer, which needs the enum but not LibTorch, does not
// pull in the ATen headers that npy.h's tensor functions require.
#pragma once

namespace neuralom {

/// Element types the engine understands in .npy and HDF5 files.
enum class DType { kFloat16, kFloat32, kFloat64, kBool, kInt8, kUInt8, kInt16, kInt32, kInt64, kOther };

/// "float32", "float64", "bool", ... for messages.
inline const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kFloat16: return "float16";
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kBool: return "bool";
    case DType::kInt8: return "int8";
    case DType::kUInt8: return "uint8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kOther: break;
  }
  return "other";
}

}  // namespace neuralom
