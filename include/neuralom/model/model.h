// An exported NeuralOM network (stage 1, stage 2 or the atmosphere model): a TorchScript module
// written by scripts/export_torchscript.py, with the `neuralom.json` metadata stored in the archive.
//
// Torch's JIT headers stay behind this boundary; callers see ATen tensors only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace neuralom {

/// The exporter's description of a model (the `neuralom.json` extra file).
struct ModelMetadata {
  std::string path;                   ///< file the model was loaded from
  std::string model;                  ///< "stage1", "stage2" or "atmos"
  std::string reference_class;        ///< "MIGraph", "MIGraph_stage2", "OneForecast"
  int64_t in_channels = 0;
  int64_t out_channels = 0;
  int64_t height = 0;                 ///< grid rows
  int64_t width = 0;                  ///< grid columns
  int64_t mesh_level = 0;
  int64_t hidden_dim = 0;
  int64_t processor_layers = 0;
  int64_t parameters = 0;
  int64_t forcing_channels_per_day = 0;  ///< stage 1: forcing channels per day in its input
  int64_t substeps_per_day = 0;          ///< atmosphere model: applications per ocean day
  std::vector<int64_t> forcing_channels; ///< atmosphere model: its channels that force the ocean
  std::string checkpoint;
  std::string checkpoint_sha256;
  std::string torch_version;
  std::string exporter_version;
  std::string json;                   ///< the raw metadata text

  /// "stage1 (MIGraph, 101→93 channels, 360×720, hidden 432, 16 layers)"
  std::string summary() const;
};

/// Parses and validates `neuralom.json` text. `origin` names the file in messages.
/// Throws ModelError for malformed JSON, a wrong format tag, or missing/invalid fields.
ModelMetadata parse_model_metadata(const std::string& json, const std::string& origin);

/// Reads only the metadata of an exported model (no weights are loaded). Throws ModelError
/// (missing file, not a TorchScript archive, no neuralom.json).
ModelMetadata read_model_metadata(const std::string& path);

/// How to prepare a model for running.
struct ModelOptions {
  bool static_cache = true;  ///< precompute the input-independent graph work once (costs memory)
  int64_t edge_chunk = 0;    ///< evaluate encoder/decoder edges in chunks of this many (0 = all at once)
};

class Model {
 public:
  /// Loads a TorchScript archive onto `device`, reads and validates its metadata and applies
  /// `options`. Throws ModelError naming the file (missing, not a TorchScript archive, no
  /// neuralom.json, not float32, methods missing).
  static Model load(const std::string& path, c10::Device device, const ModelOptions& options = {});

  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  ~Model();

  const ModelMetadata& metadata() const;
  c10::Device device() const;

  /// Runs the network: `x` float32 `[B, in_channels, height, width]` on the model's device →
  /// `[B, out_channels, height, width]`. Must be called under c10::InferenceMode.
  /// Throws ModelError if `x` has the wrong shape.
  at::Tensor forward(const at::Tensor& x) const;

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace neuralom
