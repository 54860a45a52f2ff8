#!/usr/bin/env bash
# Installs what neuralom needs (Debian/Ubuntu), finds a Python interpreter that has torch, then
# configures and builds into build/. Idempotent: a second run installs nothing and rebuilds only
# what changed.
#
# Environment:
#   PYTHON             interpreter to use for the exporter and the Python tests (must import torch)
#   BUILD_DIR          build directory (default: build)
#   CMAKE_PREFIX_PATH  where to find a LibTorch other than Debian's (pip/conda/download)
#   NEURALOM_NO_INSTALL=1  never call apt-get (report what is missing instead)
#   JOBS               parallel build jobs (default: number of cores)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 2; }

# Debian packages: C++ libraries, the BLAS LibTorch should use, and the exporter's Python stack.
DEB_PACKAGES=(
  libtorch-dev libhdf5-dev libcxxopts-dev libspdlog-dev libgtest-dev libyaml-cpp-dev
  nlohmann-json3-dev libssl-dev libnetcdf-dev
  libopenmpi-dev openmpi-bin
  libopenblas0-pthread
  python3-torch python3-numpy python3-scipy python3-sklearn python3-h5py python3-pytest
  python3-matplotlib
  python3-xarray python3-netcdf4 python3-zarr netcdf-bin
  ninja-build
)

install_debian_packages() {
  local missing=()
  for p in "${DEB_PACKAGES[@]}"; do
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

main() {
  require_tool cmake "Install CMake (>= 3.18), e.g. 'apt-get install cmake' or from environment.yml."
  require_tool c++ "Install a C++17 compiler (g++ >= 9 or clang >= 10)."

  if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    install_debian_packages
  else
    log "not a Debian/Ubuntu system: skipping package installation."
    log "You need LibTorch, HDF5 (C and C++), cxxopts, spdlog, yaml-cpp, nlohmann-json, OpenSSL, netCDF-C,"
    log "optionally an MPI (OpenMPI), GoogleTest and a Python with torch, numpy, scipy, scikit-learn, h5py, pytest. The conda environment in"
    log "environment.yml provides all of them: conda env create -f environment.yml"
  fi

  local python
  python="$(find_python)" || die "no Python interpreter with torch found (tried \$PYTHON, /usr/bin/python3, python3, python). Set PYTHON=/path/to/python, or create the conda environment in environment.yml."
  log "python with torch: $python ($("$python" -c 'import torch; print("torch", torch.__version__)'))"

  local generator=()
  if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
  local prefix_args=()
  if [ -n "${CONDA_PREFIX:-}" ] && [ -z "${CMAKE_PREFIX_PATH:-}" ]; then
    prefix_args=(-DCMAKE_PREFIX_PATH="$CONDA_PREFIX;$("$python" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)')")
  fi
  log "configuring $BUILD_DIR"
  mkdir -p "$BUILD_DIR"
  if ! cmake -S "$ROOT" -B "$BUILD_DIR" "${generator[@]}" "${prefix_args[@]}" \
      -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}" -DNEURALOM_PYTHON="$python" >"$BUILD_DIR/configure.log" 2>&1; then
    cat "$BUILD_DIR/configure.log" >&2
    die "CMake configuration failed (log above). Missing libraries? See README.md 'Building' and environment.yml."
  fi
  log "building with $JOBS jobs"
  cmake --build "$BUILD_DIR" -j "$JOBS"
  log "done: $BUILD_DIR/neuralom"
}

main "$@"
