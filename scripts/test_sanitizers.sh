#!/usr/bin/env bash
# The sanitizer stage of the test suite (called by scripts/test.sh; runs on its own too).
#
# Builds neuralom with AddressSanitizer and UndefinedBehaviorSanitizer (NEURALOM_SANITIZE) into
# build-asan/ and runs the CTest label "sanitize": the C++ unit tests, the CLI smoke test, the
# end-to-end runs of the golden cases (simulate, forecast, bad input, hostile models, output
# limits) against the sanitized binary, and the replay of the fuzz corpora. With clang the same
# build has the libFuzzer targets (NEURALOM_FUZZ), and each then fuzzes for a bounded time
# (scripts/fuzz.sh). LibTorch, HDF5 and OpenBLAS are used uninstrumented; the leak suppressions
# for them, each justified, are in tests/sanitizers/lsan.supp.
#
# Environment:
#   ASAN_BUILD_DIR         build directory (default: build-asan)
#   NEURALOM_FUZZ_SECONDS  seconds of fuzzing per target after the tests (default 60; 0 = none)
#   JOBS                   parallel build, test and fuzzing jobs (default: number of cores)
# Extra arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
BUILD_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
FUZZ_SECONDS="${NEURALOM_FUZZ_SECONDS:-60}"

log() { printf '[sanitizers] %s\n' "$*" >&2; }

# The Debian flavour's packages plus clang with libFuzzer (a no-op when all are installed and
# build/ is up to date).
"$ROOT/scripts/setup.sh" --sanitizers

python="$(require_python)"

# clang builds the fuzz targets too; any other compiler gets the sanitizers alone.
compiler_args=()
fuzz=OFF
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  for cxx in clang++-14 clang++; do
    # Clang, with its libFuzzer runtime (Debian: libclang-rt-14-dev).
    if command -v "$cxx" >/dev/null 2>&1 &&
       printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
         "$cxx" -x c++ -fsanitize=fuzzer,address - -o /dev/null >/dev/null 2>&1; then
      cc="${cxx/clang++/clang}"
      compiler_args=(-DCMAKE_C_COMPILER="$(command -v "$cc")" -DCMAKE_CXX_COMPILER="$(command -v "$cxx")")
      fuzz=ON
      break
    fi
  done
  [ "$fuzz" = ON ] || log "no clang with libFuzzer found: sanitizers with the default compiler, no fuzz targets"
else
  fuzz="$(sed -n 's/^NEURALOM_FUZZ:BOOL=//p' "$BUILD_DIR/CMakeCache.txt")"
fi
generator=()
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi
# ccache, as scripts/setup.sh: a clean clone (CI) then rebuilds from the cache.
if [ -z "${CMAKE_CXX_COMPILER_LAUNCHER:-}" ] && command -v ccache >/dev/null 2>&1; then
  generator+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ROOT}"
  export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
fi

log "configuring $BUILD_DIR (address,undefined; fuzz targets: $fuzz)"
mkdir -p "$BUILD_DIR"
# -O1 with line tables: fast enough, and reports carry file:line. Assertions stay on.
if ! cmake -S "$ROOT" -B "$BUILD_DIR" "${generator[@]}" "${compiler_args[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DNEURALOM_SANITIZE=address,undefined -DNEURALOM_FUZZ="$fuzz" -DNEURALOM_PYTHON="$python" \
    >"$BUILD_DIR/configure.log" 2>&1; then
  cat "$BUILD_DIR/configure.log" >&2
  log "error: CMake configuration failed (log above)"
  exit 2
fi
log "building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"

log "running the tests labelled 'sanitize'"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" -L sanitize "$@")

if [ "$fuzz" = ON ] && [ "$FUZZ_SECONDS" != 0 ]; then
  log "fuzzing each target for ${FUZZ_SECONDS}s"
  BUILD_DIR="$BUILD_DIR" FUZZ_JOBS="${FUZZ_JOBS:-$JOBS}" "$ROOT/scripts/fuzz.sh" "$FUZZ_SECONDS"
fi
log "sanitizer stage passed"
