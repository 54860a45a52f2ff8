#include "neuralom/model/model.h"

#include <exception>
#include <filesystem>
#include <sstream>

#include <spdlog/spdlog.h>
#include <torch/script.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/torch_compat.h"

namespace neuralom {
namespace {

// The versions involved when an archive cannot be loaded, and what to do about it.
std::string version_note(const std::string& exported_with) {
  const std::string runtime = torch_compat::libtorch_version();
  if (exported_with.empty()) return " (this build's LibTorch is " + runtime + ")";
  if (exported_with_newer_torch(exported_with, runtime)) {
    return " (exported with torch " + exported_with + ", newer than this build's LibTorch " + runtime +
           "; re-export it with torch " + runtime + " or use a build with a newer LibTorch, see README.md "
           "'Choosing a flavour')";
  }
  return " (exported with torch " + exported_with + "; this build's LibTorch is " + runtime + ")";
}

}  // namespace

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
  if (device.is_cpu()) torch_compat::use_plain_graph_executor();
  torch::jit::ExtraFilesMap extra{{kModelMetadataFile, ""}};
  try {
    impl->module = torch::jit::load(path, device, extra);
  } catch (const std::exception& e) {
    // c10::Error for unreadable archives, torch::jit::ErrorReport (a std::exception) when the
    // archive's TorchScript code does not compile here, e.g. an operator this LibTorch lacks.
    // Name the torch that wrote the archive: a newer torch can use operators or serialisation
    // features this LibTorch does not have.
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    const std::string reason = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
    std::string exported_with;
    try {
      exported_with = read_model_metadata(path).torch_version;
    } catch (const Error&) {
      // keep the loader's own message
    }
    throw ModelError(path + ": cannot load TorchScript model" + version_note(exported_with) + ": " + reason);
  }
  if (extra[kModelMetadataFile].empty()) {
    throw ModelError(path + ": the archive has no neuralom.json metadata (export it with scripts/export_torchscript.py)");
  }
  impl->metadata = parse_model_metadata(extra[kModelMetadataFile], path);
  if (impl->metadata.torch_version.rfind(torch_compat::libtorch_version(), 0) != 0) {
    spdlog::debug("{} was exported with torch {}; running it with LibTorch {}", path,
                  impl->metadata.torch_version, torch_compat::libtorch_version());
  }
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
