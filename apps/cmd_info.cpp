// `neuralom info`: what this build is and what it will run on.
#include <iomanip>
#include <iostream>
#include <sstream>

#include <ATen/Parallel.h>
#include <cxxopts.hpp>

#include "commands.h"
#include "parse_options.h"
#include "neuralom/core/errors.h"
#include "neuralom/core/log.h"
#include "neuralom/core/mpi_context.h"
#include "neuralom/core/version.h"
#include "neuralom/model/model_metadata.h"
#include "neuralom/model/runtime.h"
#include "neuralom/model/torch_compat.h"

namespace neuralom::app {
namespace {

// `neuralom info --model FILE`: the exported model's description, read from the archive without
// loading its weights: a summary line, then the whole neuralom.json (graph provenance included:
// method, index/feature SHA-256s, edge counts, the libraries that built it).
int print_model_info(const std::string& path) {
  const ModelMetadata m = read_model_metadata(path);
  std::cout << "model       " << path << "\n"
            << "summary     " << m.summary() << "\n"
            << "exported    torch " << m.torch_version << ", exporter " << m.exporter_version << "\n";
  if (!m.graph_provenance.empty()) std::cout << "graph       " << m.graph_provenance << "\n";
  if (!m.checkpoint.empty()) {
    std::cout << "checkpoint  " << m.checkpoint << " (sha256 " << m.checkpoint_sha256 << ")\n";
  }
  std::cout << "neuralom.json:\n" << m.json << "\n";
  return kExitOk;
}

std::string flavour_description(const std::string& flavour) {
  if (flavour == "debian") return "debian (Debian's libtorch-dev)";
  if (flavour == "pip") return "pip (LibTorch of PyPI's torch)";
  if (flavour == "conda") return "conda (LibTorch of a conda environment)";
  return flavour + " (a LibTorch found through CMAKE_PREFIX_PATH)";
}

}  // namespace

int run_info(int argc, char** argv) {
  cxxopts::Options options("neuralom info",
                           "Print version, LibTorch, CUDA devices, threads and BLAS; or, with "
                           "--model FILE, an exported model's metadata.");
  options.custom_help("[options]");
  options.set_width(110);
  options.add_options()
      ("model", "print the metadata of an exported model FILE (.pt) instead: configuration, "
                "checkpoint, graph provenance", cxxopts::value<std::string>(), "FILE")
      ("threads", "intra-op threads to configure (default: all hardware threads)", cxxopts::value<int>(), "N")
      ("log-level", "trace, debug, info, warn, error (default: $NEURALOM_LOG_LEVEL or info)",
       cxxopts::value<std::string>(), "LEVEL")
      ("h,help", "show this help");
  const cxxopts::ParseResult args = parse_options(options, argc, argv);
  if (args.count("help") != 0U) {
    std::cout << options.help() << "\n";
    return kExitOk;
  }
  init_logging(option_or<std::string>(args, "log-level", ""));
  if (args.count("model") != 0U) return print_model_info(args["model"].as<std::string>());
  const int threads = configure_threads(option_or(args, "threads", 0));

  const VersionInfo v = version_info();
  const BlasInfo blas = detect_blas();
  const auto devices = cuda_devices();

  std::ostringstream out;
  const auto row = [&out](const char* key, const std::string& value) {
    out << "  " << std::left << std::setw(18) << key << value << "\n";
  };
  out << "neuralom " << v.version << "\n";
  row("git revision", v.git_revision);
  row("build", v.build_type + ", " + v.compiler + ", C++" + std::to_string(v.cxx_standard));
  row("flavour", flavour_description(v.flavour));
  row("LibTorch", v.torch_version + (v.torch_cuda ? " (CUDA build)" : " (CPU build)"));
  if (!v.torch_cuda) {
    row("CUDA runtime", "none (CPU build)");
  } else {
    const std::string runtime = torch_compat::cuda_runtime_version();
    const std::string headers = torch_compat::cuda_headers_version();
    row("CUDA runtime", runtime + " (built against)");
    if (headers != runtime) {
      row("warning", "compiled with CUDA " + headers + " headers; LibTorch uses CUDA " + runtime);
    }
  }
  if (devices.empty()) {
    row("CUDA devices", v.torch_cuda ? "none visible (no GPU, or no NVIDIA driver)" : "none (CPU build)");
  } else {
    row("CUDA devices", std::to_string(devices.size()));
    for (const auto& d : devices) {
      std::ostringstream line;
      line << "cuda:" << d.index;
      if (!d.name.empty()) line << "  " << d.name;
      if (d.memory_gib > 0) line << "  " << std::fixed << std::setprecision(1) << d.memory_gib << " GiB";
      row("", line.str());
    }
  }
  std::string kernels = "CPU (edge gather + add + SiLU, LayerNorm + residual, LayerNorm + scatter-sum)";
  if (!v.cuda_kernel_architectures.empty()) {
    std::string archs = v.cuda_kernel_architectures;
    for (std::size_t p = archs.find(';'); p != std::string::npos; p = archs.find(';', p)) archs.replace(p, 1, ", ");
    kernels += "; CUDA with --cuda-fused-kernels (compiled for " + archs + ")";
  }
  row("fused kernels", kernels);
  row("MPI", MpiContext::compiled_with_mpi() ? mpi_library_version() + " (mpirun -np N neuralom simulate ...)"
                                             : std::string("not compiled in (NEURALOM_WITH_MPI=OFF; use --shard and merge)"));
  row("intra-op threads", std::to_string(threads) + " (hardware threads: " +
                               std::to_string(hardware_threads()) + ")");
  row("inter-op threads", std::to_string(at::get_num_interop_threads()));
  std::string blas_line = blas.name;
  if (!blas.library_path.empty()) blas_line += " (" + blas.library_path + ")";
  row("BLAS", blas_line);
  if (!blas.detail.empty()) row("BLAS config", blas.detail);
  if (blas.threads > 0) row("BLAS threads", std::to_string(blas.threads));
  if (blas.is_reference) {
    row("warning", "reference BLAS is ~50x slower; install libopenblas0-pthread (scripts/setup.sh does)");
  }
  std::cout << out.str();
  return kExitOk;
}

}  // namespace neuralom::app
