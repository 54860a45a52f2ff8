#include "neuralom/model/model_metadata.h"

#include <filesystem>
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
  } catch (const Json::parse_error& e) {
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
  m.mesh_level = required_int(root, "mesh_level", origin);
  m.hidden_dim = required_int(root, "hidden_dim", origin);
  m.processor_layers = required_int(root, "processor_layers", origin);
  if (root.contains("parameters") && !root["parameters"].is_null()) {
    m.parameters = as_int(root["parameters"], "field 'parameters'", origin);
  }
  m.checkpoint = optional_string(root, "checkpoint");
  m.checkpoint_sha256 = optional_string(root, "checkpoint_sha256");
  m.torch_version = optional_string(root, "torch_version");
  m.exporter_version = optional_string(root, "exporter_version");
  m.graph_provenance = describe_graph(root);
  if (m.model == "stage1") {
    m.forcing_channels_per_day = root.contains("forcing_channels_per_day")
                                     ? required_int(root, "forcing_channels_per_day", origin)
                                     : (m.in_channels - m.out_channels) / 2;
  }
  if (m.model == "atmos") {
    m.substeps_per_day = required_int(root, "substeps_per_day", origin);
    const auto fc = root.find("forcing_channels");
    if (fc == root.end() || !fc->is_array() || fc->empty()) {
      throw ModelError(origin + ": neuralom.json of an atmosphere model needs 'forcing_channels'");
    }
    for (const auto& c : *fc) {
      const int64_t ch = as_int(c, "field 'forcing_channels'", origin);
      if (ch < 0 || ch >= m.out_channels) {
        throw ModelError(origin + ": forcing channel " + std::to_string(ch) + " is outside the model's " +
                         std::to_string(m.out_channels) + " output channels");
      }
      m.forcing_channels.push_back(ch);
    }
    if (m.substeps_per_day <= 0) throw ModelError(origin + ": substeps_per_day must be positive");
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
