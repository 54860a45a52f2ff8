#include "neuralom/model/model.h"

#include <filesystem>
#include <sstream>

#include <caffe2/serialize/inline_container.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <yaml-cpp/yaml.h>

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

constexpr const char* kMetadataFile = "neuralom.json";

// Reads a required integer field of the metadata.
int64_t required_int(const YAML::Node& root, const char* key, const std::string& origin) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull()) {
    throw ModelError(origin + ": neuralom.json has no '" + key + "'");
  }
  try {
    return node.as<int64_t>();
  } catch (const YAML::Exception&) {
    throw ModelError(origin + ": neuralom.json field '" + key + "' is not an integer");
  }
}

std::string optional_string(const YAML::Node& root, const char* key) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull() || !node.IsScalar()) return "";
  return node.as<std::string>();
}

}  // namespace

std::string ModelMetadata::summary() const {
  std::ostringstream s;
  s << model << " (" << reference_class << ", " << in_channels << "->" << out_channels << " channels, "
    << height << "x" << width << ", mesh level " << mesh_level << ", hidden " << hidden_dim << ", "
    << processor_layers << " layers)";
  return s.str();
}

ModelMetadata parse_model_metadata(const std::string& json, const std::string& origin) {
  YAML::Node root;
  try {
    root = YAML::Load(json);  // JSON is a subset of YAML 1.2
  } catch (const YAML::Exception& e) {
    throw ModelError(origin + ": neuralom.json is not valid JSON: " + e.what());
  }
  if (!root.IsMap()) throw ModelError(origin + ": neuralom.json is not a JSON object");
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
  const YAML::Node grid = root["grid"];
  if (!grid || !grid.IsSequence() || grid.size() != 2) {
    throw ModelError(origin + ": neuralom.json field 'grid' must be [rows, columns]");
  }
  m.height = grid[0].as<int64_t>();
  m.width = grid[1].as<int64_t>();
  if (m.in_channels <= 0 || m.out_channels <= 0 || m.height <= 0 || m.width <= 0) {
    throw ModelError(origin + ": neuralom.json has non-positive channel counts or grid size");
  }
  m.mesh_level = required_int(root, "mesh_level", origin);
  m.hidden_dim = required_int(root, "hidden_dim", origin);
  m.processor_layers = required_int(root, "processor_layers", origin);
  if (root["parameters"] && !root["parameters"].IsNull()) m.parameters = root["parameters"].as<int64_t>();
  m.checkpoint = optional_string(root, "checkpoint");
  m.checkpoint_sha256 = optional_string(root, "checkpoint_sha256");
  m.torch_version = optional_string(root, "torch_version");
  m.exporter_version = optional_string(root, "exporter_version");
  if (m.model == "stage1") {
    m.forcing_channels_per_day = root["forcing_channels_per_day"]
                                     ? root["forcing_channels_per_day"].as<int64_t>()
                                     : (m.in_channels - m.out_channels) / 2;
  }
  if (m.model == "atmos") {
    m.substeps_per_day = required_int(root, "substeps_per_day", origin);
    const YAML::Node fc = root["forcing_channels"];
    if (!fc || !fc.IsSequence() || fc.size() == 0) {
      throw ModelError(origin + ": neuralom.json of an atmosphere model needs 'forcing_channels'");
    }
    for (const auto& c : fc) {
      const auto ch = c.as<int64_t>();
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
    const std::string record = std::string("extra/") + kMetadataFile;
    if (!reader.hasRecord(record)) {
      throw ModelError(path + ": the archive has no neuralom.json metadata (export it with scripts/export_torchscript.py)");
    }
    auto [data, size] = reader.getRecord(record);
    json.assign(static_cast<const char*>(data.get()), size);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": not a TorchScript model archive: " + e.what_without_backtrace());
  }
  return parse_model_metadata(json, path);
}

struct Model::Impl {
  torch::jit::Module module;
  ModelMetadata metadata;
  c10::Device device{c10::kCPU};
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Model Model::load(const std::string& path, c10::Device device, const ModelOptions& options) {
  if (!std::filesystem::exists(path)) {
    throw ModelError(path + ": no such model file (export one with scripts/export_torchscript.py)");
  }
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  // On the CPU, TorchScript's optimising executor gains nothing for these graphs (no CPU fusion)
  // and keeps ~4 GB of profiling state alive at full size; the plain interpreter runs the same
  // ops with less memory and is faster (measured: 2.9 vs 6.5 GiB, 71 vs 81 s per stage-1 forward).
  // The flag is process-wide; on CUDA the default (optimising, fusing) executor is kept.
  if (device.is_cpu()) torch::jit::setGraphExecutorOptimize(false);
  torch::jit::ExtraFilesMap extra{{kMetadataFile, ""}};
  try {
    impl->module = torch::jit::load(path, device, extra);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": cannot load TorchScript model: " + e.what_without_backtrace());
  }
  if (extra[kMetadataFile].empty()) {
    throw ModelError(path + ": the archive has no neuralom.json metadata (export it with scripts/export_torchscript.py)");
  }
  impl->metadata = parse_model_metadata(extra[kMetadataFile], path);
  impl->module.eval();
  try {
    if (impl->module.find_method("set_edge_chunk")) {
      impl->module.run_method("set_edge_chunk", options.edge_chunk);
    }
    if (options.static_cache && impl->module.find_method("build_static_cache")) {
      c10::InferenceMode guard;
      impl->module.run_method("build_static_cache");
    }
  } catch (const c10::Error& e) {
    throw ModelError(path + ": preparing the model failed: " + e.what_without_backtrace());
  }
  spdlog::debug("loaded {} from {}", impl->metadata.summary(), path);
  return Model(std::move(impl));
}

const ModelMetadata& Model::metadata() const { return impl_->metadata; }

c10::Device Model::device() const { return impl_->device; }

at::Tensor Model::forward(const at::Tensor& x) const {
  const ModelMetadata& m = impl_->metadata;
  if (x.dim() != 4 || x.size(1) != m.in_channels || x.size(2) != m.height || x.size(3) != m.width) {
    std::ostringstream s;
    s << m.path << ": input of shape " << x.sizes() << " does not fit the model, expected [B, "
      << m.in_channels << ", " << m.height << ", " << m.width << "]";
    throw ModelError(s.str());
  }
  try {
    return impl_->module.forward({x}).toTensor();
  } catch (const c10::Error& e) {
    // Not an input problem (shapes were checked above): out of memory, a device fault, a bug.
    throw std::runtime_error(m.path + ": forward failed: " + e.what_without_backtrace());
  }
}

}  // namespace neuralom
