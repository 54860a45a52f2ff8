// Version and build information of this neuralom build.
#pragma once

#include <string>

namespace neuralom {

struct VersionInfo {
  std::string version;        ///< project version, e.g. "0.1.0"
  std::string git_revision;   ///< `git describe` at configure time, or "unknown"
  std::string build_type;     ///< CMake build type
  std::string compiler;       ///< compiler id and version
  std::string torch_version;  ///< LibTorch version the binary was compiled against
  std::string flavour;        ///< where that LibTorch came from: "debian", "pip", "conda", "libtorch"
  bool torch_cuda = false;    ///< whether the CUDA code paths are compiled in (a CUDA LibTorch)
  /// CUDA builds: the architectures neuralom's own kernels are compiled for, as CMake lists them
  /// ("75-real;80-real;..."); empty in a CPU build.
  std::string cuda_kernel_architectures;
  int cxx_standard = 0;       ///< C++ standard compiled with (17, or 20 for LibTorch >= 2.10)
};

/// Build information. Never throws.
VersionInfo version_info();

/// One line for `--version`: "neuralom 0.1.0 (git abc123, LibTorch 1.13.1, CPU)".
std::string version_line();

}  // namespace neuralom
