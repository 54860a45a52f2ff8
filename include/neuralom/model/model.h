// An exported NeuralOM network (stage 1, stage 2 or the atmosphere model): a TorchScript module
// written by scripts/export_torchscript.py, with the `neuralom.json` metadata stored in the archive.
//
// Torch's JIT headers stay behind this boundary; callers see ATen tensors only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "neuralom/model/model_metadata.h"
#include "neuralom/model/precision.h"
#include "neuralom/model/static_cache.h"

namespace neuralom {

/// How to prepare a model for running.
struct ModelOptions {
  /// How much input-independent graph work to precompute once (model/static_cache.h); kAuto is
  /// resolved for the load's device.
  StaticCache static_cache = StaticCache::kAuto;
  int64_t edge_chunk = 0;    ///< evaluate encoder/decoder edges in chunks of this many (0 = all at once)
  /// kBf16: the network's floating-point parameters and buffers are cast to bfloat16 (the archive
  /// must support it); kFp32/kTf32 leave them float32. Inputs and outputs stay float32.
  Precision precision = Precision::kFp32;
  /// Replace the networks' edge gather + add + SiLU sequences and the LayerNorms followed by a
  /// residual sum or a scatter-sum by neuralom's fused operators (model/fused_kernels.h,
  /// model/kernel_fusion.h): on the CPU, and on CUDA if cuda_fused_kernels is set too. Ignored
  /// on other devices.
  bool fused_kernels = true;
  /// CUDA: the fused operators' CUDA kernels (CUDA builds). Off by default until validated on a
  /// GPU (scripts/gpu_check.sh).
  bool cuda_fused_kernels = false;
  /// If defined: the grid nodes `r * W + c` (int64, strictly increasing) at which the output is
  /// needed. The network then runs its decoder side on them alone and returns 0 elsewhere
  /// (the same values at these nodes, to float32 rounding). For ocean stages, whose outputs at
  /// nodes that are land in every channel are masked anyway (data/land_mask.h: ocean_nodes).
  /// Archives exported before the exporter had it compute every node, with a log line saying so.
  at::Tensor output_nodes;
};

class Model {
 public:
  /// Loads a TorchScript archive onto `device`, reads and validates its metadata, applies
  /// `options`, and checks that the network is what the metadata says before anyone computes with
  /// it: forward(x: Tensor) -> Tensor; the exporter's size attributes (channels, grid, hidden
  /// width, mesh nodes), where present, equal the metadata's; and one probe forward of a finite
  /// [1, in_channels, H, W] float32 input returns a finite float32 [1, out_channels, H, W] on
  /// `device` (the cost of one forward of one sample). Throws ModelError naming the file (missing,
  /// not a TorchScript archive, no or contradictory neuralom.json, wrong signature, output shape or
  /// dtype, NaN/Inf, methods missing, bf16 asked of an archive exported without bf16 support);
  /// when LibTorch cannot load the archive the
  /// message names the torch that exported it and this build's LibTorch.
  static Model load(const std::string& path, c10::Device device, const ModelOptions& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const ModelMetadata& metadata() const;
  c10::Device device() const;

  /// Runs the network: `x` float32 `[B, in_channels, height, width]` on the model's device →
  /// `[B, out_channels, height, width]`. Must be called under c10::InferenceMode.
  /// Throws ModelError if `x` or the network's output has the wrong shape or type;
  /// std::runtime_error if the network fails (out of memory, device fault).
  at::Tensor forward(const at::Tensor& x) const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neuralom
