#!/usr/bin/env bash
# Installs what neuralom needs (Debian/Ubuntu), then configures and builds one of its two flavours:
#
#   scripts/setup.sh               Debian flavour: Debian's LibTorch 1.13 (CPU) and python3-torch,
#                                  built into build/. The quick start on any machine.
#   scripts/setup.sh --torch pip   torch-2.x flavour: PyPI's torch (LibTorch 2.x for CUDA 13) in the
#                                  virtual environment .venv-torch2/ (scripts/requirements-torch2.txt)
#                                  and the local CUDA toolkit, built with NEURALOM_WITH_CUDA=ON into
#                                  build-torch2/. For GPUs; needs nvcc.
#   scripts/setup.sh --sanitizers  also installs clang, its libFuzzer runtime and llvm-symbolizer,
#                                  with which the sanitizer stage (scripts/test_sanitizers.sh)
#                                  builds the fuzz targets and symbolizes its reports.
#
# Idempotent: a second run installs nothing and rebuilds only what changed.
#
# Environment:
#   PYTHON             Debian flavour: interpreter for the exporter and the Python tests (must import torch)
#   BUILD_DIR          build directory (default: build, or build-torch2 with --torch pip)
#   CMAKE_PREFIX_PATH  where to find a LibTorch other than Debian's (conda, download); with --torch pip,
#                      searched after the virtual environment's torch
#   VENV               --torch pip: the virtual environment (default: .venv-torch2)
#   VENV_PYTHON        --torch pip: the interpreter that creates it (default: /usr/bin/python3, else python3)
#   NEURALOM_WHEELHOUSE  --torch pip: where the downloaded wheels are kept for later runs and other
#                      clones (default: <pip's cache directory>/neuralom-wheelhouse, ~4 GB)
#   TORCH_CUDA_ARCH_LIST --torch pip: GPU architectures for LibTorch's nvcc flags (default 9.0;
#                      neuralom compiles no CUDA kernels of its own, so one is enough)
#   NEURALOM_NO_INSTALL=1  never call apt-get (report what is missing instead)
#   JOBS               parallel build jobs (default: number of cores)
#   CMAKE_CXX_COMPILER_LAUNCHER  compiler launcher (default: ccache when it is installed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 2; }

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Debian packages. Both flavours: the C++ libraries and the build tools (ccache: a clean clone, as in
# CI, rebuilds from the cache).
COMMON_PACKAGES=(
  libhdf5-dev libcxxopts-dev libspdlog-dev libgtest-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev
  libnetcdf-dev netcdf-bin ninja-build ccache
  libopenmpi-dev openmpi-bin
)
# Debian flavour: LibTorch, the BLAS it should use, and the exporter's Python stack.
DEBIAN_PACKAGES=(
  libtorch-dev libopenblas0-pthread
  python3-torch python3-numpy python3-scipy python3-sklearn python3-h5py python3-pytest
  python3-matplotlib python3-xarray python3-netcdf4 python3-zarr
)
# torch-2.x flavour: what creates the virtual environment (python3 and ensurepip's pip).
PIP_PACKAGES=(python3-venv)
# --sanitizers: clang with libFuzzer (the fuzz targets of tests/fuzz), and llvm-14 for its
# llvm-symbolizer (symbolized reports; the leak suppressions match function names).
SANITIZER_PACKAGES=(clang-14 libclang-rt-14-dev llvm-14)

install_debian_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "system packages: all present"
    return
  fi
  if [ "${NEURALOM_NO_INSTALL:-0}" = "1" ]; then
    die "missing Debian packages: ${missing[*]} (NEURALOM_NO_INSTALL=1 is set; install them yourself)"
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]} and no sudo to install them"
    sudo=(sudo)
  fi
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found. $2"
}

# The interpreter that creates the virtual environment: Debian's python3 (python3-venv gives it
# ensurepip), whatever python3 comes first on PATH.
venv_python() {
  local c
  for c in ${VENV_PYTHON:+"$VENV_PYTHON"} /usr/bin/python3 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import ensurepip, venv' >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

# Creates or updates the virtual environment $VENV from scripts/requirements-torch2.txt. Wheels are
# downloaded once into a wheelhouse and installed from there: pip's HTTP cache keeps nothing when
# the index's responses carry no caching headers (seen behind proxies), the wheelhouse always does.
# A stamp (hash of the requirements and the interpreter) makes a rerun skip pip altogether.
setup_venv() {
  local requirements="$ROOT/scripts/requirements-torch2.txt"
  local creator stamp want
  creator="$(venv_python)" || die "no Python 3 with venv/ensurepip found to create $VENV: install python3-venv (apt-get install python3-venv) or set VENV_PYTHON"
  if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "$VENV is broken (moved, or its interpreter is gone): recreating it"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtual environment $VENV with $creator ($("$creator" --version 2>&1))"
    "$creator" -m venv "$VENV"
  fi
  stamp="$VENV/.neuralom-requirements"
  want="$(cat "$requirements" <("$VENV/bin/python" --version 2>&1) | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
    log "python packages: up to date in $VENV"
    return
  fi
  local wheelhouse="${NEURALOM_WHEELHOUSE:-}"
  if [ -z "$wheelhouse" ]; then
    local pip_cache
    pip_cache="$("$VENV/bin/python" -m pip cache dir 2>/dev/null)" || pip_cache="${XDG_CACHE_HOME:-$HOME/.cache}/pip"
    wheelhouse="$pip_cache/neuralom-wheelhouse"
  fi
  mkdir -p "$wheelhouse"
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check --no-input --no-cache-dir)
  if ! "${pip[@]}" install -q --no-index --find-links "$wheelhouse" -r "$requirements" 2>/dev/null; then
    log "downloading the pinned wheels into $wheelhouse (once per machine: ~4 GB with torch's CUDA libraries)"
    "${pip[@]}" download -q --only-binary=:all: -r "$requirements" -d "$wheelhouse"
    log "installing into $VENV"
    "${pip[@]}" install -q --no-index --find-links "$wheelhouse" -r "$requirements"
  fi
  echo "$want" >"$stamp"
  log "python packages: installed in $VENV"
}

main() {
  local flavour=debian sanitizers=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --torch) [ $# -ge 2 ] || die "--torch needs a value: debian or pip"; flavour="$2"; shift 2 ;;
      --torch=*) flavour="${1#--torch=}"; shift ;;
      --sanitizers) sanitizers=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument '$1' (scripts/setup.sh [--torch debian|pip] [--sanitizers])" ;;
    esac
  done
  case "$flavour" in
    debian) BUILD_DIR="${BUILD_DIR:-$ROOT/build}" ;;
    pip) BUILD_DIR="${BUILD_DIR:-$ROOT/build-torch2}"; VENV="${VENV:-$ROOT/.venv-torch2}" ;;
    *) die "unknown flavour '$flavour' (expected debian or pip)" ;;
  esac

  require_tool cmake "Install CMake (>= 3.18), e.g. 'apt-get install cmake' or from environment.yml."
  require_tool c++ "Install a C++17 compiler (g++ >= 9 or clang >= 10; g++ >= 10 for the torch-2.x flavour, which needs C++20)."
  local nvcc=""
  if [ "$flavour" = pip ]; then
    nvcc="$(find_nvcc)" || die "the torch-2.x flavour builds neuralom's CUDA code paths (NEURALOM_WITH_CUDA=ON) and LibTorch's CMake package needs the CUDA toolkit, but nvcc was not found (looked at \$CUDACXX, PATH, \$CUDA_HOME/bin, /usr/local/cuda/bin). Install the CUDA toolkit 13.x (https://developer.nvidia.com/cuda-downloads) and put nvcc on PATH, or build the Debian flavour (scripts/setup.sh) for the CPU."
  fi

  local packages=("${COMMON_PACKAGES[@]}")
  if [ "$flavour" = debian ]; then packages+=("${DEBIAN_PACKAGES[@]}"); else packages+=("${PIP_PACKAGES[@]}"); fi
  if [ "$sanitizers" = 1 ]; then packages+=("${SANITIZER_PACKAGES[@]}"); fi
  if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    install_debian_packages "${packages[@]}"
  else
    log "not a Debian/Ubuntu system: skipping package installation."
    log "You need HDF5 (C and C++), cxxopts, spdlog, yaml-cpp, nlohmann-json, OpenSSL, netCDF-C, GoogleTest,"
    log "optionally an MPI (OpenMPI),"
    log "and either a LibTorch with a Python that has torch, numpy, scipy, scikit-learn, h5py, pytest,"
    log "xarray, netCDF4, zarr (the conda environment in"
    log "environment.yml provides all of them: conda env create -f environment.yml) or, for --torch pip,"
    log "a python3 with venv."
  fi

  local python cmake_args=()
  if [ "$flavour" = debian ]; then
    python="$(find_python)" || die "no Python interpreter with torch found (tried \$PYTHON, /usr/bin/python3, python3, python). Set PYTHON=/path/to/python, or create the conda environment in environment.yml."
    if [ -n "${CONDA_PREFIX:-}" ] && [ -z "${CMAKE_PREFIX_PATH:-}" ]; then
      cmake_args+=(-DCMAKE_PREFIX_PATH="$CONDA_PREFIX;$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')")
    fi
  else
    setup_venv
    python="$VENV/bin/python"
    # The torch package's root, not torch.utils.cmake_prefix_path: TorchConfig finds its libraries
    # under <prefix>/lib, and only the root makes that prefix win over Debian's /usr/lib.
    local torch_root
    torch_root="$("$python" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
    cmake_args+=(
      -DCMAKE_PREFIX_PATH="$torch_root${CMAKE_PREFIX_PATH:+;$CMAKE_PREFIX_PATH}"
      -DNEURALOM_WITH_CUDA=ON
      -DCMAKE_CUDA_COMPILER="$nvcc"
      -DCUDA_TOOLKIT_ROOT_DIR="$(dirname "$(dirname "$nvcc")")"
      -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
    )
    log "CUDA toolkit: $nvcc ($("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'))"
  fi
  log "python with torch: $python ($("$python" -c 'import torch; print("torch", torch.__version__)'))"

  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    cmake_args+=(-G Ninja)
  fi
  if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null 2>&1; then
    cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Paths relative to the checkout, so that other clones on this machine hit the same cache;
    # the sloppiness lets ccache cache the sources compiled with the precompiled header.
    export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
    export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
  fi
  log "configuring $BUILD_DIR ($flavour flavour)"
  mkdir -p "$BUILD_DIR"
  if ! cmake -S "$ROOT" -B "$BUILD_DIR" "${cmake_args[@]}" \
      -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" -DNEURALOM_PYTHON="$python" >"$BUILD_DIR/configure.log" 2>&1; then
    cat "$BUILD_DIR/configure.log" >&2
    die "CMake configuration failed (log above). Missing libraries? See README.md 'Building' and environment.yml."
  fi
  grep -m1 '^-- neuralom: LibTorch' "$BUILD_DIR/configure.log" | sed 's/^-- /[setup] /' >&2 || true
  log "building with $JOBS jobs"
  cmake --build "$BUILD_DIR" -j "$JOBS"
  log "done: $BUILD_DIR/neuralom"
}

main "$@"
