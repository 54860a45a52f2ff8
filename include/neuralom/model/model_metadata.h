// The exporter's description of a model: the `neuralom.json` extra file that
// scripts/export_torchscript.py stores in every TorchScript archive (kind, channels, grid, mesh,
// checkpoint SHA-256, versions). The engine checks it against the data before it computes anything.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace neuralom {

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
  bool local_refinement = false;      ///< the mesh is locally refined (the atmosphere model's is)
  int64_t mesh_nodes = 0;             ///< "graph": {"mesh_nodes": N}; 0 = not recorded
  int64_t forcing_channels_per_day = 0;  ///< stage 1: forcing channels per day in its input
  int64_t substeps_per_day = 0;          ///< atmosphere model: applications per ocean day
  std::vector<int64_t> forcing_channels; ///< atmosphere model: its channels that force the ocean
  std::string checkpoint;
  std::string checkpoint_sha256;
  std::string torch_version;
  std::string exporter_version;
  /// How the static graph was made, from the `graph` record: "portable arithmetic, indices
  /// sha256 c4bc0ce2755d…, 642 mesh nodes, 5100 mesh / 3240 g2m / 6144 m2g edges"; empty for
  /// archives exported before graph provenance was recorded.
  std::string graph_provenance;
  std::string json;                   ///< the raw metadata text

  /// "stage1 (MIGraph, 101->93 channels, 360x720, mesh level 5, hidden 432, 16 layers)"
  std::string summary() const;
};

/// The name of the metadata file inside the archive's `extra/` folder.
inline constexpr const char* kModelMetadataFile = "neuralom.json";

/// Bounds on the sizes a model may declare. The reference's are 101 channels, 360x720, mesh level
/// 5, hidden width 512, 16 layers, 4 sub-steps; the bounds leave room for much larger models but
/// refuse sizes whose products would overflow or that no machine could hold.
inline constexpr int64_t kMaxModelChannels = 1 << 16;
inline constexpr int64_t kMaxGridSide = 1 << 20;
inline constexpr int64_t kMaxGridPoints = int64_t{1} << 32;
inline constexpr int64_t kMaxMeshLevel = 12;
inline constexpr int64_t kMaxHiddenDim = 1 << 16;
inline constexpr int64_t kMaxProcessorLayers = 1 << 12;
inline constexpr int64_t kMaxSubstepsPerDay = 1024;

/// Mesh nodes of the icosahedral multimesh of `level` without local refinement: 10·4^level + 2.
int64_t icosphere_nodes(int64_t level);

/// Parses and validates `neuralom.json` text. `origin` names the file in messages.
/// Throws ModelError for malformed JSON, a wrong format tag, missing/invalid fields, sizes outside
/// the bounds above, or a self-contradiction (forcing channels that do not add up, a mesh whose
/// recorded node count is not that of its level).
ModelMetadata parse_model_metadata(const std::string& json, const std::string& origin);

/// Reads only the metadata of an exported model (no weights are loaded). Throws ModelError
/// (missing file, not a TorchScript archive or one of a newer format than this LibTorch reads,
/// no neuralom.json).
ModelMetadata read_model_metadata(const std::string& path);

/// Whether torch version `exported` (an archive's "torch_version", e.g. "2.14.1+cu130") is newer
/// than `runtime` (e.g. "1.13.0") by major.minor. False when either has no "major.minor" prefix.
/// Never throws.
bool exported_with_newer_torch(const std::string& exported, const std::string& runtime);

}  // namespace neuralom
