// The arithmetic a run computes the networks in: float32 (the default), TF32 tensor-core products
// on GPUs, or bfloat16 with float32 where range and precision matter.
//
//   fp32  every operation in float32: the reference's numbers, bit for bit as before.
//   tf32  float32 tensors, but CUDA matrix products and convolutions may round their inputs to
//         TF32 (10-bit mantissa) on tensor cores. GPUs only: a CPU run refuses it (ConfigError).
//   bf16  the network's parameters, buffers and activations in bfloat16, with LayerNorm statistics
//         in float32 (the exporter's LayerNorm widens), float32 inputs and outputs, and the
//         engine's residual sum, land mask and the state carried between days in float32. Needs an
//         archive exported with bf16 support (`supports_bf16`); CPU and GPU.
//
// See docs/gpu.md for the measured deviation of bf16 from fp32.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace neuralom {

enum class Precision { kFp32, kTf32, kBf16 };

/// "fp32" / "tf32" / "bf16".
const char* precision_name(Precision precision);

/// Parses "fp32", "tf32" or "bf16". Throws ConfigError naming `origin` (e.g. "--precision")
/// and the accepted values otherwise.
Precision parse_precision(const std::string& text, const std::string& origin);

/// Refuses a precision the device cannot run: tf32 on a CPU (ConfigError, exit code 2; TF32 is a
/// tensor-core format that CPUs do not have, so accepting it silently would measure fp32).
void check_precision_device(Precision precision, const c10::Device& device);

/// Sets the process-wide switches a precision needs: for tf32, LibTorch's "allow TF32" flags of
/// cuBLAS and cuDNN on; for fp32 and bf16, cuBLAS's off (its default: float32 products stay
/// float32). Call before the first forward. Never throws.
void apply_precision(Precision precision);

}  // namespace neuralom
