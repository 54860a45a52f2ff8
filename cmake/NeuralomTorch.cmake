# Finds LibTorch and adapts the build to the one found (Debian's 1.13, or 2.x from pip, conda or a
# download). Sets:
#   NEURALOM_WITH_CUDA        ON when the CUDA code paths are compiled (the cache entry of the same
#                             name is the request: AUTO, ON or OFF)
#   NEURALOM_TORCH_FLAVOUR    where this LibTorch comes from: debian, pip, conda or libtorch
#   CMAKE_CXX_STANDARD        raised to the standard LibTorch's headers require (20 for LibTorch
#                             >= 2.10); our code is C++17 and compiles as either
#   NEURALOM_FMT_SHIM_DIR     an include directory to put before LibTorch's, or "" (see below)

set(NEURALOM_WITH_CUDA AUTO CACHE STRING
  "Compile the CUDA code paths: AUTO (when LibTorch is a CUDA build), ON (require it) or OFF")
set_property(CACHE NEURALOM_WITH_CUDA PROPERTY STRINGS AUTO ON OFF)
set(_neuralom_cuda_request "${NEURALOM_WITH_CUDA}")

# LibTorch's CUDA setup enables the CUDA language; with CMP0104 NEW that initialises
# CMAKE_CUDA_ARCHITECTURES, which LibTorch then warns about and ignores (it uses
# TORCH_CUDA_ARCH_LIST). Keep the variable unset: our one CUDA target names its architectures
# (NEURALOM_CUDA_ARCHITECTURES below).
cmake_policy(PUSH)
if(POLICY CMP0104)
  cmake_policy(SET CMP0104 OLD)
endif()
find_package(Torch REQUIRED)
cmake_policy(POP)

# TorchConfig looks for its libraries with PATHS, which CMake searches *after* the system
# directories: with Debian's libtorch-dev installed, a pip/conda LibTorch found only through
# <torch>/share/cmake would link Debian's libtorch.so under 2.x headers. Refuse that mix.
get_filename_component(_neuralom_torch_lib_dir "${TORCH_LIBRARY}" DIRECTORY)
get_filename_component(_neuralom_torch_lib_dir "${_neuralom_torch_lib_dir}" REALPATH)
get_filename_component(_neuralom_torch_prefix "${TORCH_INSTALL_PREFIX}" REALPATH)
if(NOT _neuralom_torch_lib_dir MATCHES "^${_neuralom_torch_prefix}(/|$)")
  message(FATAL_ERROR "LibTorch's CMake package is at ${TORCH_INSTALL_PREFIX} but its library was "
    "found at ${TORCH_LIBRARY} (another LibTorch, e.g. Debian's libtorch-dev). Put the LibTorch "
    "root itself on CMAKE_PREFIX_PATH, e.g. "
    "-DCMAKE_PREFIX_PATH=\"$(python -c 'import torch, os; print(os.path.dirname(torch.__file__))')\" "
    "(scripts/setup.sh --torch pip does).")
endif()

# Flavour, for `neuralom info`.
if(TORCH_INSTALL_PREFIX MATCHES "/(site|dist)-packages/")
  set(NEURALOM_TORCH_FLAVOUR pip)
elseif(TORCH_INSTALL_PREFIX MATCHES "^/usr/?$")
  set(NEURALOM_TORCH_FLAVOUR debian)
elseif(DEFINED ENV{CONDA_PREFIX} AND TORCH_INSTALL_PREFIX MATCHES "^$ENV{CONDA_PREFIX}")
  set(NEURALOM_TORCH_FLAVOUR conda)
else()
  set(NEURALOM_TORCH_FLAVOUR libtorch)
endif()

# CUDA.
if(TORCH_CUDA_LIBRARIES OR CAFFE2_USE_CUDA)
  set(_neuralom_torch_has_cuda ON)
else()
  set(_neuralom_torch_has_cuda OFF)
endif()
if(_neuralom_cuda_request STREQUAL "ON" AND NOT _neuralom_torch_has_cuda)
  message(FATAL_ERROR "NEURALOM_WITH_CUDA=ON, but the LibTorch at ${TORCH_INSTALL_PREFIX} "
    "(${Torch_VERSION}) is not a CUDA build, or its CMake package found no CUDA toolkit (nvcc); "
    "see the messages above. Use a CUDA LibTorch with the CUDA toolkit on PATH, or "
    "-DNEURALOM_WITH_CUDA=AUTO for a CPU build.")
endif()
if(_neuralom_cuda_request STREQUAL "OFF")
  set(NEURALOM_WITH_CUDA OFF)
else()
  set(NEURALOM_WITH_CUDA ${_neuralom_torch_has_cuda})
endif()
if(NEURALOM_WITH_CUDA)
  find_package(CUDAToolkit REQUIRED)  # already found by LibTorch; gives CUDAToolkit_VERSION
endif()
# The GPUs the fused operators' kernels are compiled for (CMake's CUDA_ARCHITECTURES syntax):
# Turing to Blackwell as machine code, and PTX of the newest for the GPUs after it.
set(NEURALOM_CUDA_ARCHITECTURES "75-real;80-real;86-real;89-real;90-real;100-real;120-real;120-virtual" CACHE STRING
  "CUDA architectures of neuralom's own kernels (CUDA builds; e.g. 90 for an H100/H200 only)")
# Every target that links them gets the shared CUDA runtime, the one LibTorch uses, instead of
# CMake's default static one: a second runtime in the process would have its own streams.
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)

# pip's torch finds its CUDA libraries (NCCL, cuDNN, cuBLAS ...) in the nvidia-* wheels through
# its RPATH, but the linker, resolving libtorch_cuda.so's dependencies, searches our -rpath first,
# which holds the CUDA toolkit's lib directory; a toolkit that ships an older NCCL then fails the
# link with undefined nccl* symbols. Point the linker at the wheels' libraries first.
set(NEURALOM_TORCH_RPATH_LINK "")
if(_neuralom_torch_has_cuda)
  file(GLOB NEURALOM_TORCH_RPATH_LINK LIST_DIRECTORIES true "${TORCH_INSTALL_PREFIX}/../nvidia/*/lib")
endif()

# C++ standard: LibTorch >= 2.10 headers need C++20 (its CMake package says so on the `torch`
# target); older ones C++14/17. Build everything with the higher of that and our C++17.
get_target_property(_neuralom_torch_std torch CXX_STANDARD)
if(_neuralom_torch_std AND _neuralom_torch_std GREATER CMAKE_CXX_STANDARD)
  set(CMAKE_CXX_STANDARD ${_neuralom_torch_std})
endif()

# fmt: pip's torch ships fmt 12 headers in its include directory, which would shadow the fmt that
# the system's spdlog was built against (Debian: fmt 9) for every `#include <fmt/...>` of spdlog.
# LibTorch's public headers we use do not include fmt, so a directory holding only spdlog's fmt,
# placed before LibTorch's, gives spdlog its own fmt again.
set(NEURALOM_FMT_SHIM_DIR "")
if(EXISTS "${TORCH_INSTALL_PREFIX}/include/fmt" AND TARGET fmt::fmt)
  get_target_property(_neuralom_fmt_dirs fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  foreach(_dir IN LISTS _neuralom_fmt_dirs)
    if(EXISTS "${_dir}/fmt/format.h" AND NOT _dir STREQUAL "${TORCH_INSTALL_PREFIX}/include")
      set(NEURALOM_FMT_SHIM_DIR "${PROJECT_BINARY_DIR}/fmt-shim")
      file(MAKE_DIRECTORY "${NEURALOM_FMT_SHIM_DIR}")
      file(CREATE_LINK "${_dir}/fmt" "${NEURALOM_FMT_SHIM_DIR}/fmt" SYMBOLIC)
      break()
    endif()
  endforeach()
endif()

set(_neuralom_cuda_note "")
if(NEURALOM_WITH_CUDA)
  set(_neuralom_cuda_note " (CUDA toolkit ${CUDAToolkit_VERSION})")
endif()
message(STATUS "neuralom: LibTorch ${Torch_VERSION} (${NEURALOM_TORCH_FLAVOUR}) at ${TORCH_INSTALL_PREFIX}, "
  "CUDA code paths: ${NEURALOM_WITH_CUDA}${_neuralom_cuda_note}, C++${CMAKE_CXX_STANDARD}")
