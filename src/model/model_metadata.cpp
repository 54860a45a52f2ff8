#include "neuralom/model/model_metadata.h"

#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>

#include "neuralom/core/errors.h"
#include "neuralom/core/number_text.h"
#include "neuralom/model/torch_compat.h"

namespace neuralom {
namespace {

using Json = nlohmann::json;

/// An integer value; `what` ("field 'mesh_level'", "grid") names it in messages.
int64_t as_int(const Json& node, const std::string& what, const std::string& origin) {
  if (!node.is_number_integer()) throw ModelError(origin + ": neuralom.json " + what + " is not an integer");
  if (node.is_number_unsigned() && node.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw ModelError(origin + ": neuralom.json " + what + " is too large (" + node.dump() + ")");
  }
  return node.get<int64_t>();
}

// Reads a required integer field of the metadata.
int64_t required_int(const Json& root, const char* key, const std::string& origin) {
  const auto it = root.find(key);
  if (it == root.end() || it->is_null()) {
    throw ModelError(origin + ": neuralom.json has no '" + key + "'");
  }
  return as_int(*it, std::string("field '") + key + "'", origin);
}

/// A text field: a string as it is, a number or boolean as its JSON text, "" if absent, null or
/// an array or object.
std::string optional_string(const Json& root, const char* key) {
  const auto it = root.find(key);
  if (it == root.end() || it->is_null() || it->is_structured()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// One line from the `graph` record (method, index digest, sizes); empty if there is none.
std::string describe_graph(const Json& root) {
  const auto graph = root.find("graph");
  if (graph == root.end() || !graph->is_object() || !graph->contains("method")) return "";
  const auto text = [&](const char* key) {
    const auto it = graph->find(key);
    return it != graph->end() && it->is_string() ? it->get<std::string>() : std::string("?");
  };
  const auto count = [&](const char* key) {
    const auto it = graph->find(key);
    return it != graph->end() && it->is_number_integer() ? std::to_string(it->get<int64_t>()) : std::string("?");
  };
  std::ostringstream s;
  const std::string method = text("method");
  s << (method == "file" ? "from file " + text("file") : method + " arithmetic") << ", indices sha256 "
    << text("index_sha256").substr(0, 12) << "…, " << count("mesh_nodes") << " mesh nodes, "
    << count("mesh_edges") << " mesh / " << count("g2m_edges") << " g2m / " << count("m2g_edges") << " m2g edges";
  return s.str();
}

/// Throws unless lo <= value <= hi.
void check_range(int64_t value, int64_t lo, int64_t hi, const char* what, const std::string& origin) {
  if (value < lo || value > hi) {
    throw ModelError(origin + ": neuralom.json declares " + what + " = " + std::to_string(value) + ", outside " +
                     std::to_string(lo) + ".." + std::to_string(hi) + " (a corrupt or forged file?)");
  }
}

// Leading "major.minor" of a torch version string ("2.14.1+cu130" -> {2, 14}); nothing if absent.
std::optional<std::pair<int64_t, int64_t>> major_minor(const std::string& version) {
  constexpr const char* kDigits = "0123456789";
  const auto dot = version.find_first_not_of(kDigits);
  if (dot == 0 || dot == std::string::npos || version[dot] != '.') return std::nullopt;
  const auto end = version.find_first_not_of(kDigits, dot + 1);
  const auto major = parse_integer(version.substr(0, dot));
  const auto minor = parse_integer(version.substr(dot + 1, end == std::string::npos ? end : end - dot - 1));
  if (!major || !minor) return std::nullopt;
  return std::make_pair(*major, *minor);
}

}  // namespace

int64_t icosphere_nodes(int64_t level) { return 10 * (int64_t{1} << (2 * level)) + 2; }

bool exported_with_newer_torch(const std::string& exported, const std::string& runtime) {
  const auto e = major_minor(exported);
  const auto r = major_minor(runtime);
  return e && r && *e > *r;
}

std::string ModelMetadata::summary() const {
  std::ostringstream s;
  s << model << " (" << reference_class << ", " << in_channels << "->" << out_channels << " channels, "
    << height << "x" << width << ", mesh level " << mesh_level << ", hidden " << hidden_dim << ", "
    << processor_layers << " layers)";
  return s.str();
}

ModelMetadata parse_model_metadata(const std::string& json, const std::string& origin) {
  Json root;
  try {
    root = Json::parse(json);
  } catch (const Json::exception& e) {
    // parse_error for malformed text, out_of_range for a number beyond double (1e400).
    throw ModelError(origin + ": neuralom.json is not valid JSON: " + e.what());
  }
  if (!root.is_object()) throw ModelError(origin + ": neuralom.json is not a JSON object");
  if (optional_string(root, "format") != "neuralom-model") {
    throw ModelError(origin + ": neuralom.json has format '" + optional_string(root, "format") +
                     "', expected 'neuralom-model' (was this file written by scripts/export_torchscript.py?)");
  }
  const int64_t version = required_int(root, "format_version", origin);
  if (version != 1) {
    throw ModelError(origin + ": neuralom.json format_version " + std::to_string(version) +
                     " is not supported by this build (expected 1); re-export the model");
  }
  ModelMetadata m;
  m.path = origin;
  m.json = json;
  m.model = optional_string(root, "model");
  if (m.model != "stage1" && m.model != "stage2" && m.model != "atmos") {
    throw ModelError(origin + ": neuralom.json has model '" + m.model + "', expected stage1, stage2 or atmos");
  }
  m.reference_class = optional_string(root, "reference_class");
  m.in_channels = required_int(root, "in_channels", origin);
  m.out_channels = required_int(root, "out_channels", origin);
  const auto grid = root.find("grid");
  if (grid == root.end() || !grid->is_array() || grid->size() != 2) {
    throw ModelError(origin + ": neuralom.json field 'grid' must be [rows, columns]");
  }
  m.height = as_int((*grid)[0], "field 'grid'", origin);
  m.width = as_int((*grid)[1], "field 'grid'", origin);
  if (m.in_channels <= 0 || m.out_channels <= 0 || m.height <= 0 || m.width <= 0) {
    throw ModelError(origin + ": neuralom.json has non-positive channel counts or grid size");
  }
  check_range(m.in_channels, 1, kMaxModelChannels, "in_channels", origin);
  check_range(m.out_channels, 1, kMaxModelChannels, "out_channels", origin);
  check_range(m.height, 1, kMaxGridSide, "grid rows", origin);
  check_range(m.width, 1, kMaxGridSide, "grid columns", origin);
  check_range(m.height * m.width, 1, kMaxGridPoints, "grid points (rows x columns)", origin);
  m.mesh_level = required_int(root, "mesh_level", origin);
  check_range(m.mesh_level, 0, kMaxMeshLevel, "mesh_level", origin);
  m.hidden_dim = required_int(root, "hidden_dim", origin);
  check_range(m.hidden_dim, 1, kMaxHiddenDim, "hidden_dim", origin);
  m.processor_layers = required_int(root, "processor_layers", origin);
  check_range(m.processor_layers, 1, kMaxProcessorLayers, "processor_layers", origin);
  if (root.contains("parameters") && !root["parameters"].is_null()) {
    m.parameters = as_int(root["parameters"], "field 'parameters'", origin);
    check_range(m.parameters, 0, std::numeric_limits<int64_t>::max(), "parameters", origin);
  }
  // The mesh: without local refinement its node count follows from the level; the exporter
  // records the count, so a level that does not match it is a forged or corrupt file.
  const auto refinement = root.find("local_refinement");
  m.local_refinement = refinement != root.end() && !refinement->is_null() &&
                       !(refinement->is_boolean() && !refinement->get<bool>());
  const auto graph = root.find("graph");
  if (graph != root.end() && graph->is_object() && graph->contains("mesh_nodes")) {
    m.mesh_nodes = as_int((*graph)["mesh_nodes"], "field 'graph.mesh_nodes'", origin);
    const int64_t base = icosphere_nodes(m.mesh_level);
    if (m.local_refinement ? m.mesh_nodes < base : m.mesh_nodes != base) {
      throw ModelError(origin + ": neuralom.json says mesh level " + std::to_string(m.mesh_level) + " (" +
                       std::to_string(base) + " nodes" + (m.local_refinement ? " before refinement" : "") +
                       ") but records a mesh of " + std::to_string(m.mesh_nodes) + " nodes");
    }
  }
  m.checkpoint = optional_string(root, "checkpoint");
  m.checkpoint_sha256 = optional_string(root, "checkpoint_sha256");
  m.torch_version = optional_string(root, "torch_version");
  m.exporter_version = optional_string(root, "exporter_version");
  m.graph_provenance = describe_graph(root);
  if (m.model == "stage1") {
    // Stage 1 reads the ocean state and the forcing of two days: in = out + 2 x forcing.
    if (m.in_channels <= m.out_channels || (m.in_channels - m.out_channels) % 2 != 0) {
      throw ModelError(origin + ": neuralom.json of a stage-1 model maps " + std::to_string(m.in_channels) + " -> " +
                       std::to_string(m.out_channels) + " channels; expected ocean + 2 x forcing inputs "
                       "(e.g. 101 = 93 + 4 + 4)");
    }
    m.forcing_channels_per_day = root.contains("forcing_channels_per_day")
                                     ? required_int(root, "forcing_channels_per_day", origin)
                                     : (m.in_channels - m.out_channels) / 2;
    if (m.forcing_channels_per_day != (m.in_channels - m.out_channels) / 2) {
      throw ModelError(origin + ": neuralom.json says " + std::to_string(m.forcing_channels_per_day) +
                       " forcing channels per day, but its channels " + std::to_string(m.in_channels) + " -> " +
                       std::to_string(m.out_channels) + " imply " +
                       std::to_string((m.in_channels - m.out_channels) / 2));
    }
  }
  if (m.model == "atmos") {
    m.substeps_per_day = required_int(root, "substeps_per_day", origin);
    check_range(m.substeps_per_day, 1, kMaxSubstepsPerDay, "substeps_per_day", origin);
    const auto fc = root.find("forcing_channels");
    if (fc == root.end() || !fc->is_array() || fc->empty()) {
      throw ModelError(origin + ": neuralom.json of an atmosphere model needs 'forcing_channels'");
    }
    if (static_cast<int64_t>(fc->size()) > m.out_channels) {
      throw ModelError(origin + ": neuralom.json lists " + std::to_string(fc->size()) +
                       " forcing channels for a model of " + std::to_string(m.out_channels) + " output channels");
    }
    for (const auto& c : *fc) {
      const int64_t ch = as_int(c, "field 'forcing_channels'", origin);
      if (ch < 0 || ch >= m.out_channels) {
        throw ModelError(origin + ": forcing channel " + std::to_string(ch) + " is outside the model's " +
                         std::to_string(m.out_channels) + " output channels");
      }
      m.forcing_channels.push_back(ch);
    }
  }
  return m;
}

ModelMetadata read_model_metadata(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    throw ModelError(path + ": no such model file (export one with scripts/export_torchscript.py)");
  }
  std::string json;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const std::string record = std::string("extra/") + kModelMetadataFile;
    if (!reader.hasRecord(record)) {
      throw ModelError(path + ": the archive has no neuralom.json metadata (export it with scripts/export_torchscript.py)");
    }
    auto [data, size] = reader.getRecord(record);
    json.assign(static_cast<const char*>(data.get()), size);
  } catch (const c10::Error& e) {
    // Also what a too new archive format gives ("... maximum supported version for reading is").
    throw ModelError(path + ": not a TorchScript model archive, or one this LibTorch cannot read (this build's LibTorch is " +
                     torch_compat::libtorch_version() + "): " + e.what_without_backtrace());
  }
  return parse_model_metadata(json, path);
}

}  // namespace neuralom
