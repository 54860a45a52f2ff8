#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs every test — C++ (GoogleTest) and Python
# (pytest) — through CTest. Extra arguments go to ctest, e.g. `scripts/test.sh -L unit`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/setup.sh"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
cd "$BUILD_DIR"
ctest --output-on-failure -j "${JOBS:-$(nproc 2>/dev/null || echo 2)}" "$@"
