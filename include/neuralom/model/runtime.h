// The compute runtime: threads, the BLAS library actually loaded, compute devices and memory use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>

namespace neuralom {

/// The BLAS implementation found in the running process.
struct BlasInfo {
  std::string name;          ///< "OpenBLAS", "MKL", "BLIS", "reference BLAS" or "unknown"
  std::string library_path;  ///< resolved path of the loaded BLAS shared object ("" if none found)
  std::string detail;        ///< e.g. OpenBLAS's config string ("OpenBLAS 0.3.21 ... Haswell MAX_THREADS=64")
  int threads = 0;           ///< the BLAS library's own thread count (0 if it cannot be queried)
  bool is_reference = false; ///< the slow Netlib reference implementation
};

/// Inspects the shared objects loaded into this process. Never throws.
BlasInfo detect_blas();

/// Sets LibTorch's intra-op thread count and, where the loaded BLAS allows it, the BLAS thread
/// count to `threads`. `threads <= 0` means all hardware threads. Returns the count applied.
int configure_threads(int threads);

/// Number of hardware threads (at least 1).
int hardware_threads();

/// One CUDA device as LibTorch sees it.
struct CudaDevice {
  int index = 0;
  std::string name;       ///< device name, or "" in a build without CUDA headers
  double memory_gib = 0;  ///< total memory, 0 if unknown
};

/// Visible CUDA devices (empty without CUDA). Never throws.
std::vector<CudaDevice> cuda_devices();

/// Makes LibTorch use deterministic algorithms (process-wide), so that CUDA runs repeat bit for
/// bit: scatter-adds (`index_add_`) without atomics, cuBLAS with a fixed workspace
/// (CUBLAS_WORKSPACE_CONFIG=:4096:8 unless already set; read when cuBLAS starts, so call it before
/// the first forward). An operation without a deterministic implementation then throws. Never throws.
void use_deterministic_algorithms();

/// Peak device memory reserved by LibTorch's CUDA caching allocator on `device` since the start,
/// in GiB; -1 for a CPU device or a build without CUDA. Never throws.
double peak_device_gib(const c10::Device& device);

/// Peak resident set size of this process in GiB (VmHWM from /proc/self/status), 0 if unknown.
/// Never throws.
double peak_resident_gib();

/// The device request of one of `local_ranks` MPI ranks on a node: "auto" and "cuda" become
/// "cuda:<local_rank mod devices>" where CUDA devices are visible (each rank its own GPU; a warning
/// when ranks must share them); any other request is kept. Never throws.
std::string device_for_local_rank(const std::string& request, int local_rank, int local_ranks);

/// Intra-op threads for one of `local_ranks` ranks on a node: `requested` if > 0, else the
/// hardware threads shared out among the ranks (at least 1). Never throws.
int threads_for_local_rank(int requested, int local_ranks);
/// Host memory this process may use, in bytes: the physical memory, or the cgroup's limit where
/// that is smaller (containers, batch systems); 0 if unknown. Never throws.
int64_t usable_memory_bytes();

/// Resolves a device request: "auto" (CUDA if available, else CPU with a warning), "cpu", "cuda",
/// "cuda:N". Throws ConfigError for malformed names or unavailable devices.
c10::Device select_device(const std::string& request);

}  // namespace neuralom
