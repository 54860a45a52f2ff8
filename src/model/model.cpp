#include "neuralom/model/model.h"

#include <exception>
#include <filesystem>
#include <sstream>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <spdlog/spdlog.h>
#include <torch/script.h>

#include "neuralom/core/errors.h"
#include "neuralom/model/kernel_fusion.h"
#include "neuralom/model/torch_compat.h"

namespace neuralom {
namespace {

/// forward(self, x: Tensor) -> Tensor, with any further arguments optional: how the engine calls it.
void check_signature(const torch::jit::Module& module, const std::string& path) {
  const auto method = module.find_method("forward");
  if (!method) throw ModelError(path + ": the TorchScript module has no forward() method");
  const c10::FunctionSchema& schema = method->function().getSchema();
  const auto& args = schema.arguments();  // args[0] is self
  std::string found = "forward(";
  for (std::size_t i = 1; i < args.size(); ++i) {
    found += (i > 1 ? ", " : "") + args[i].name() + ": " + args[i].type()->str();
  }
  found += ") -> ";
  for (std::size_t i = 0; i < schema.returns().size(); ++i) {
    found += (i > 0 ? ", " : "") + schema.returns()[i].type()->str();
  }
  const auto refuse = [&](const std::string& why) {
    throw ModelError(path + ": forward has the signature " + found + ", " + why +
                     "; the engine calls forward(x: Tensor) -> Tensor");
  };
  if (args.size() < 2 || args[1].type()->kind() != c10::TypeKind::TensorType) refuse("not one tensor argument");
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (!args[i].default_value()) refuse("with arguments the engine does not pass");
  }
  if (schema.returns().size() != 1 || schema.returns()[0].type()->kind() != c10::TypeKind::TensorType) {
    refuse("not returning one tensor");
  }
}

/// The exporter's module records its sizes as attributes; they must be what neuralom.json says.
/// (Other modules have no such attributes: the probe forward checks them.)
void check_attributes(const torch::jit::Module& module, const ModelMetadata& m) {
  const std::pair<const char*, int64_t> expected[] = {
      {"in_channels", m.in_channels}, {"out_channels", m.out_channels}, {"grid_height", m.height},
      {"grid_width", m.width},        {"hidden_dim", m.hidden_dim}};
  for (const auto& [name, value] : expected) {
    if (!module.hasattr(name)) continue;
    const c10::IValue attr = module.attr(name);
    if (!attr.isInt() || attr.toInt() != value) {
      std::ostringstream s;
      s << m.path << ": neuralom.json says " << name << " = " << value << ", but the network's " << name << " is "
        << attr << " (the metadata does not describe this network: a corrupt or forged file)";
      throw ModelError(s.str());
    }
  }
  // The mesh: its node count follows from the level (plus local refinement, if any).
  if (module.hasattr("num_mesh_nodes") && module.attr("num_mesh_nodes").isInt()) {
    const int64_t nodes = module.attr("num_mesh_nodes").toInt();
    const int64_t base = icosphere_nodes(m.mesh_level);
    if ((m.mesh_nodes > 0 && nodes != m.mesh_nodes) || (m.local_refinement ? nodes < base : nodes != base)) {
      throw ModelError(m.path + ": neuralom.json says mesh level " + std::to_string(m.mesh_level) +
                       (m.mesh_nodes > 0 ? " with " + std::to_string(m.mesh_nodes) + " nodes" : std::string()) +
                       ", but the network's mesh has " + std::to_string(nodes) +
                       " nodes (the metadata does not describe this network: a corrupt or forged file)");
    }
  }
}

/// One forward of a deterministic input of the declared shape [1, in, H, W] (values in [-1, 1],
/// like normalised anomalies), before the run computes anything: the network must accept it and
/// return a finite float32 tensor [1, out, H, W] on its device. Costs one forward of one sample.
void probe(torch::jit::Module& module, const ModelMetadata& m, c10::Device device) {
  c10::InferenceMode guard;
  const at::Tensor x =
      at::arange(m.in_channels * m.height * m.width, at::TensorOptions().dtype(at::kFloat).device(device))
          .mul_(0.618034f)
          .sin_()
          .reshape({1, m.in_channels, m.height, m.width});
  std::ostringstream declared;
  declared << "its metadata declares " << m.in_channels << " -> " << m.out_channels << " channels on " << m.height
           << "x" << m.width;
  c10::IValue out;
  try {
    out = module.forward({x});
  } catch (const std::exception& e) {
    // c10::Error from an operator, torch::jit::JITException from the network's own `raise`.
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    throw ModelError(m.path + ": the network fails on an input of its declared shape [1, " +
                     std::to_string(m.in_channels) + ", " + std::to_string(m.height) + ", " +
                     std::to_string(m.width) + "] (" + declared.str() +
                     "): " + (c10_error != nullptr ? c10_error->what_without_backtrace() : e.what()));
  }
  if (!out.isTensor()) {
    throw ModelError(m.path + ": forward returned " + out.tagKind() + ", expected a tensor");
  }
  const at::Tensor y = out.toTensor();
  const std::vector<int64_t> want{1, m.out_channels, m.height, m.width};
  const bool same_device = y.device().type() == device.type() && (!device.has_index() || y.device() == device);
  if (y.sizes() != at::IntArrayRef(want) || y.scalar_type() != at::kFloat || !same_device) {
    std::ostringstream s;
    s << m.path << ": forward of a [1, " << m.in_channels << ", " << m.height << ", " << m.width
      << "] input returned a " << y.scalar_type() << " tensor of shape " << y.sizes() << " on " << y.device()
      << ", expected float32 [1, " << m.out_channels << ", " << m.height << ", " << m.width << "] on " << device
      << " (" << declared.str() << ")";
    throw ModelError(s.str());
  }
  if (!at::isfinite(y).all().item<bool>()) {
    const int64_t bad = at::logical_not(at::isfinite(y)).sum().item<int64_t>();
    throw ModelError(m.path + ": the network returns " + std::to_string(bad) + " NaN/Inf values (of " +
                     std::to_string(y.numel()) + ") for a finite test input; it cannot produce a forecast");
  }
}

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

/// Casts the floating-point parameters and buffers of `module` and its submodules to `dtype`, as
/// Python's Module.to(dtype) does (torch::jit::Module::to would cast the integer graph indices too).
void cast_floating_tensors(torch::jit::Module& module, at::ScalarType dtype) {
  for (torch::jit::Module m : module.modules()) {
    std::vector<std::pair<std::string, at::Tensor>> cast;
    for (const auto& p : m.named_parameters(/*recurse=*/false)) {
      if (p.value.is_floating_point()) cast.emplace_back(p.name, p.value.to(dtype));
    }
    for (const auto& b : m.named_buffers(/*recurse=*/false)) {
      if (b.value.is_floating_point()) cast.emplace_back(b.name, b.value.to(dtype));
    }
    for (auto& [name, tensor] : cast) m.setattr(name, std::move(tensor));
  }
}

/// Builds the exporter's static cache to the level asked for (model/static_cache.h). Archives
/// without a static cache (other exporters) are left alone; archives from before the light cache
/// get the full one instead of a light one.
void prepare_static_cache(torch::jit::Module& module, StaticCache cache, const std::string& path) {
  if (cache == StaticCache::kOff || !module.find_method("build_static_cache")) return;
  c10::InferenceMode guard;
  if (cache == StaticCache::kLight) {
    if (module.find_method("build_light_static_cache")) {
      module.run_method("build_light_static_cache");
      return;
    }
    spdlog::warn("{} predates the light static cache: building the full one, which takes more memory (re-export "
                 "it with scripts/export_torchscript.py, or choose --static-cache full or off)",
                 path);
  }
  module.run_method("build_static_cache");
}

/// Restricts the network's decoder side to `nodes` (ModelOptions::output_nodes), if given and if
/// the archive can; all nodes are computed otherwise.
void apply_output_nodes(torch::jit::Module& module, const at::Tensor& nodes, const ModelMetadata& m,
                        c10::Device device, const std::string& path) {
  const int64_t grid_nodes = m.height * m.width;
  // None (an all-land mask) leaves the network as it is: there is nothing to save.
  if (!nodes.defined() || nodes.numel() == 0 || nodes.numel() >= grid_nodes) return;
  if (!module.find_method("set_output_nodes")) {
    spdlog::info("{} predates output nodes: its decoder also runs at the {} grid points that are land in every "
                 "channel (re-export it with scripts/export_torchscript.py to skip them)",
                 path, grid_nodes - nodes.numel());
    return;
  }
  c10::InferenceMode guard;
  module.run_method("set_output_nodes", nodes.to(device));
  spdlog::debug("{}: decoder on {} of {} grid nodes", path, nodes.numel(), grid_nodes);
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
  check_signature(impl->module, path);
  check_attributes(impl->module, impl->metadata);
  if (impl->metadata.torch_version.rfind(torch_compat::libtorch_version(), 0) != 0) {
    spdlog::debug("{} was exported with torch {}; running it with LibTorch {}", path,
                  impl->metadata.torch_version, torch_compat::libtorch_version());
  }
  impl->module.eval();
  if (options.precision == Precision::kBf16) {
    // The exporter's forward computes in its parameters' dtype and keeps LayerNorm statistics in
    // float32; older archives would fail inside forward (float32 input against bfloat16 weights).
    if (!impl->module.hasattr("supports_bf16")) {
      throw ModelError(path + ": --precision bf16 needs an archive exported with bfloat16 support, and this one "
                       "predates it; re-export it from its checkpoint with scripts/export_torchscript.py, or "
                       "run with --precision fp32");
    }
    // Before the static cache is built, so that the cache is computed in bfloat16 as well.
    cast_floating_tensors(impl->module, at::kBFloat16);
  }
  try {
    // First, before any method runs: the forward's graph is rewritten in place.
    if (options.fused_kernels && (device.is_cpu() || (device.is_cuda() && options.cuda_fused_kernels))) {
      const FusedSequences fused = fuse_kernels(impl->module);
      spdlog::debug("{}: fused {} edge gather + add + SiLU, {} LayerNorm + residual and {} LayerNorm + "
                    "scatter-sum sequences",
                    path, fused.edge_silu, fused.layer_norm_add, fused.layer_norm_index_add);
    }
    if (impl->module.find_method("set_edge_chunk")) {
      impl->module.run_method("set_edge_chunk", options.edge_chunk);
    }
    // Before the cache is built: a full cache then holds only the decoder edges that are used.
    apply_output_nodes(impl->module, options.output_nodes, impl->metadata, device, path);
    prepare_static_cache(impl->module, resolve_static_cache(options.static_cache, device), path);
  } catch (const c10::Error& e) {
    throw ModelError(path + ": preparing the model failed: " + e.what_without_backtrace());
  }
  probe(impl->module, impl->metadata, device);
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
  c10::IValue out;
  try {
    out = impl_->module.forward({x});
  } catch (const c10::Error& e) {
    // Not an input problem (shapes were checked above, and the load's probe ran the network on
    // its declared shape): out of memory, a device fault, a bug.
    throw std::runtime_error(m.path + ": forward failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error(m.path + ": forward failed: " + e.what());
  }
  // The probe saw a well-formed output; a network whose output depends on more than the shape
  // could still change its mind, and nothing downstream may see a wrong shape.
  if (!out.isTensor() || out.toTensor().dim() != 4 || out.toTensor().size(0) != x.size(0) ||
      out.toTensor().size(1) != m.out_channels || out.toTensor().size(2) != m.height ||
      out.toTensor().size(3) != m.width || out.toTensor().scalar_type() != at::kFloat) {
    std::ostringstream s;
    s << m.path << ": forward returned ";
    if (out.isTensor()) {
      s << "a " << out.toTensor().scalar_type() << " tensor of shape " << out.toTensor().sizes();
    } else {
      s << out.tagKind();
    }
    s << ", expected float32 [" << x.size(0) << ", " << m.out_channels << ", " << m.height << ", " << m.width << "]";
    throw ModelError(s.str());
  }
  return out.toTensor();
}

}  // namespace neuralom
