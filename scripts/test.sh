#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs every test — C++ (GoogleTest) and Python
# (pytest) — through CTest, then the sanitizer stage (scripts/test_sanitizers.sh: ASan + UBSan
# build in build-asan/, the "sanitize" tests, and with clang 60 s of fuzzing per fuzz target).
#
# Extra arguments go to the first ctest, e.g. `scripts/test.sh -L unit`; the sanitizer stage then
# runs only if NEURALOM_SANITIZERS=1. Without arguments (what CI runs) it always runs, unless
# NEURALOM_SANITIZERS=0.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "${JOBS:-$(nproc 2>/dev/null || echo 2)}" "$@")

sanitizers="${NEURALOM_SANITIZERS:-$([ $# -eq 0 ] && echo 1 || echo 0)}"
if [ "$sanitizers" = 1 ]; then
  "$ROOT/scripts/test_sanitizers.sh"
fi
