#include "neuralom/model/runtime.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#ifdef NEURALOM_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "neuralom/core/errors.h"

namespace neuralom {
namespace {

// Function types of the BLAS libraries' own thread and version controls, looked up with dlsym so
// that the binary links against none of them directly.
using OpenblasGetConfig = char* (*)();
using OpenblasGetThreads = int (*)();
using OpenblasSetThreads = void (*)(int);
using MklGetMaxThreads = int (*)();
using MklSetNumThreads = void (*)(int);
using MklGetVersionString = void (*)(char*, int);

template <typename Fn>
Fn find_symbol(const char* name) {
  // dlsym returns void*; converting to a function pointer is the POSIX-sanctioned way.
  void* sym = dlsym(RTLD_DEFAULT, name);
  Fn fn = nullptr;
  static_assert(sizeof(fn) == sizeof(sym), "function and object pointers differ in size");
  std::memcpy(&fn, &sym, sizeof(fn));
  return fn;
}

int collect_library(struct dl_phdr_info* info, size_t /*size*/, void* data) {
  auto* names = static_cast<std::vector<std::string>*>(data);
  if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
    names->emplace_back(info->dlpi_name);
  }
  return 0;
}

// The shared object that defines `symbol` ("" if none), e.g. libtorch_cpu.so for MKL, which
// pip's torch links statically.
std::string object_defining(const char* symbol) {
  void* sym = dlsym(RTLD_DEFAULT, symbol);
  Dl_info info{};
  if (sym == nullptr || dladdr(sym, &info) == 0 || info.dli_fname == nullptr) return "";
  return info.dli_fname;
}

std::string resolve(const std::string& path) {
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(path, ec);
  return ec ? path : canonical.string();
}

}  // namespace

BlasInfo detect_blas() {
  BlasInfo info;
  info.name = "unknown";
  std::vector<std::string> libraries;
  dl_iterate_phdr(collect_library, &libraries);
  for (const auto& lib : libraries) {
    const std::string real = resolve(lib);
    const std::string base = std::filesystem::path(real).filename().string();
    const bool blas_like = real.find("openblas") != std::string::npos ||
                           real.find("libmkl") != std::string::npos ||
                           real.find("blis") != std::string::npos ||
                           base.rfind("libblas.so", 0) == 0;
    if (!blas_like) continue;
    info.library_path = real;
    if (real.find("openblas") != std::string::npos) {
      info.name = "OpenBLAS";
    } else if (real.find("libmkl") != std::string::npos) {
      info.name = "MKL";
    } else if (real.find("blis") != std::string::npos) {
      info.name = "BLIS";
    } else {
      // Debian's alternatives put the Netlib implementation at .../blas/libblas.so.3.
      info.name = "reference BLAS";
      info.is_reference = true;
    }
    if (!info.is_reference) break;  // prefer an optimised library if several are loaded
  }
  if (auto get_config = find_symbol<OpenblasGetConfig>("openblas_get_config")) {
    info.name = "OpenBLAS";
    info.is_reference = false;
    info.detail = get_config();
  }
  if (auto get_threads = find_symbol<OpenblasGetThreads>("openblas_get_num_threads")) {
    info.threads = get_threads();
  } else if (auto mkl_threads = find_symbol<MklGetMaxThreads>("MKL_Get_Max_Threads")) {
    info.threads = mkl_threads();
    if (info.library_path.empty() || info.is_reference) {
      // No separate MKL library: it is linked into LibTorch (pip's and pytorch.org's builds).
      info.name = "MKL";
      info.is_reference = false;
      info.library_path = resolve(object_defining("MKL_Get_Max_Threads"));
      std::string version;
      if (auto get_version = find_symbol<MklGetVersionString>("MKL_Get_Version_String")) {
        char buffer[256] = {};
        get_version(buffer, static_cast<int>(sizeof(buffer)));
        version = std::string(buffer) + ", ";
      }
      info.detail = version + "linked into " + std::filesystem::path(info.library_path).filename().string();
    }
  }
  return info;
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

int configure_threads(int threads) {
  const int n = threads > 0 ? threads : hardware_threads();
  at::set_num_threads(n);
  // LibTorch built against a generic BLAS does not forward its thread count to the BLAS library.
  if (auto set = find_symbol<OpenblasSetThreads>("openblas_set_num_threads")) set(n);
  if (auto set = find_symbol<MklSetNumThreads>("MKL_Set_Num_Threads")) set(n);
  return n;
}

std::vector<CudaDevice> cuda_devices() {
  std::vector<CudaDevice> devices;
  try {
    if (!torch::cuda::is_available()) return devices;
    const auto count = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < count; ++i) {
      CudaDevice dev;
      dev.index = i;
#ifdef NEURALOM_WITH_CUDA
      const cudaDeviceProp* prop = at::cuda::getDeviceProperties(i);
      dev.name = prop->name;
      dev.memory_gib = static_cast<double>(prop->totalGlobalMem) / (1024.0 * 1024.0 * 1024.0);
#endif
      devices.push_back(dev);
    }
  } catch (const std::exception& e) {
    spdlog::warn("could not query CUDA devices: {}", e.what());
  }
  return devices;
}

void use_deterministic_algorithms() {
  ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
}

double peak_device_gib(const c10::Device& device) {
#ifdef NEURALOM_WITH_CUDA
  if (!device.is_cuda()) return -1.0;
  try {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
    return static_cast<double>(stats.reserved_bytes[0].peak) / (1024.0 * 1024.0 * 1024.0);  // [0]: all pools
  } catch (const std::exception& e) {
    spdlog::warn("could not read the CUDA memory statistics: {}", e.what());
    return -1.0;
  }
#else
  (void)device;
  return -1.0;
#endif
}

double peak_resident_gib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream in(line.substr(6));
      double kib = 0;
      in >> kib;
      return kib / (1024.0 * 1024.0);
    }
  }
  return 0.0;
}

std::string device_for_local_rank(const std::string& request, int local_rank, int local_ranks) {
  const std::string req = request.empty() ? "auto" : request;
  if (req != "auto" && req != "cuda") return req;
  const int count = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (count == 0) return req;
  if (local_ranks > count && local_rank == 0) {
    spdlog::warn("{} ranks on this node share {} CUDA device(s)", local_ranks, count);
  }
  return "cuda:" + std::to_string(local_rank % count);
}

int threads_for_local_rank(int requested, int local_ranks) {
  if (requested > 0) return requested;
  return std::max(1, hardware_threads() / std::max(1, local_ranks));
}

int64_t usable_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  int64_t bytes = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
  // cgroup v2 ("max" when unlimited), then v1 (a huge number when unlimited).
  for (const char* file : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(file);
    long long limit = 0;
    if (in >> limit && limit > 0 && (bytes == 0 || limit < bytes)) bytes = static_cast<int64_t>(limit);
  }
  return bytes;
}

c10::Device select_device(const std::string& request) {
  const std::string req = request.empty() ? "auto" : request;
  if (req == "auto") {
    if (torch::cuda::is_available()) return c10::Device(c10::kCUDA, 0);
#ifdef NEURALOM_WITH_CUDA
    spdlog::warn("no CUDA device available: running on the CPU (use --device cpu to silence this)");
#else
    // A CPU build: auto cannot mean anything else, so there is nothing to warn about.
    spdlog::debug("a CPU build: running on the CPU");
#endif
    return c10::Device(c10::kCPU);
  }
  if (req == "cpu") return c10::Device(c10::kCPU);
  static const std::regex cuda_re("cuda(?::([0-9]+))?");
  std::smatch m;
  if (!std::regex_match(req, m, cuda_re)) {
    throw ConfigError("unknown device '" + req + "' (expected auto, cpu, cuda or cuda:N)");
  }
  const int index = m[1].matched ? std::stoi(m[1].str()) : 0;
  if (!torch::cuda::is_available()) {
    throw ConfigError("device '" + req + "' requested but CUDA is not available in this build or on this machine" +
                      " (see `neuralom info`; use --device cpu)");
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw ConfigError("device '" + req + "' requested but only " + std::to_string(count) +
                      " CUDA device(s) are visible");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace neuralom
