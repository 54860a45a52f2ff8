#include "neuralom/model/precision.h"

#include <ATen/Context.h>

#include "neuralom/core/errors.h"

namespace neuralom {

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kTf32:
      return "tf32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kFp32:
      break;
  }
  return "fp32";
}

Precision parse_precision(const std::string& text, const std::string& origin) {
  if (text == "fp32") return Precision::kFp32;
  if (text == "tf32") return Precision::kTf32;
  if (text == "bf16") return Precision::kBf16;
  throw ConfigError(origin + ": unknown precision '" + text + "' (expected fp32, tf32 or bf16)");
}

void check_precision_device(Precision precision, const c10::Device& device) {
  if (precision == Precision::kTf32 && !device.is_cuda()) {
    throw ConfigError("--precision tf32 needs a CUDA device, but the run is on " + device.str() +
                      " (TF32 is a GPU tensor-core format; use fp32 or bf16 on the CPU)");
  }
}

void apply_precision(Precision precision) {
  const bool tf32 = precision == Precision::kTf32;
  // Both flags exist in LibTorch 1.13 and 2.x and only affect CUDA kernels. cuBLAS defaults to
  // off (float32 products), which fp32 and bf16 keep; cuDNN (convolutions, which these networks
  // do not use) defaults to on and is left as it is unless tf32 asks for it.
  at::globalContext().setAllowTF32CuBLAS(tf32);
  if (tf32) at::globalContext().setAllowTF32CuDNN(true);
}

}  // namespace neuralom
