#!/usr/bin/env bash
# The sanitizer stage of the test suite (called by scripts/test.sh; runs on its own too).
#
# Builds neuralom with AddressSanitizer and UndefinedBehaviorSanitizer (NEURALOM_SANITIZE) into
# build-asan/ and runs the CTest label "sanitize": the C++ unit tests, the CLI smoke test, the
# end-to-end runs of the golden cases (simulate, forecast, bad input, hostile models, output
# limits) against the sanitized binary. LibTorch, HDF5 and OpenBLAS are used uninstrumented; the
# leak suppressions for them, each justified, are in tests/sanitizers/lsan.supp.
#
# Environment:
#   ASAN_BUILD_DIR         build directory (default: build-asan)
#   JOBS                   parallel build and test jobs (default: number of cores)
# Extra arguments go to ctest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
BUILD_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

log() { printf '[sanitizers] %s\n' "$*" >&2; }

python="$(require_python)"

generator=()
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
  generator=(-G Ninja)
fi

log "configuring $BUILD_DIR (address,undefined)"
mkdir -p "$BUILD_DIR"
# -O1 with line tables: fast enough, and reports carry file:line. Assertions stay on.
if ! cmake -S "$ROOT" -B "$BUILD_DIR" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DNEURALOM_SANITIZE=address,undefined -DNEURALOM_PYTHON="$python" \
    >"$BUILD_DIR/configure.log" 2>&1; then
  cat "$BUILD_DIR/configure.log" >&2
  log "error: CMake configuration failed (log above)"
  exit 2
fi
log "building with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"

log "running the tests labelled 'sanitize'"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" -L sanitize "$@")
log "sanitizer stage passed"
