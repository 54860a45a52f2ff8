#!/usr/bin/env bash
# Sets up and builds (scripts/setup.sh), then runs every test — C++ (GoogleTest) and Python
# (pytest) — through CTest, in each flavour:
#   1. the Debian flavour (Debian's LibTorch 1.13, CPU) in build/;
#   2. where the CUDA toolkit's nvcc is present, the torch-2.x flavour (PyPI's torch, LibTorch 2.x,
#      NEURALOM_WITH_CUDA=ON; scripts/setup.sh --torch pip) in build-torch2/, tested on the CPU.
# Both are built before either is tested, so that the cross-version tests (tests/compat) of each
# find the other. Then the sanitizer stage (scripts/test_sanitizers.sh): an ASan + UBSan build in
# build-asan/, the tests labelled "sanitize", and with clang 60 s of fuzzing per fuzz target.
#
# Extra arguments go to both ctest runs, e.g. `scripts/test.sh -L unit`; the sanitizer stage then
# runs only if NEURALOM_SANITIZERS=1. Without arguments (what CI runs) it always runs, unless
# NEURALOM_SANITIZERS=0.
#
# Environment: NEURALOM_TEST_FLAVOURS="debian pip" picks flavours (default: debian, plus pip where
# nvcc is found); BUILD_DIR, TORCH2_BUILD_DIR: the build directories; JOBS: parallel jobs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
export JOBS

log() { printf '[test] %s\n' "$*" >&2; }

flavours="${NEURALOM_TEST_FLAVOURS:-}"
if [ -z "$flavours" ]; then
  flavours=debian
  if find_nvcc >/dev/null; then
    flavours="debian pip"
  else
    log "nvcc not found: testing the Debian flavour only (the torch-2.x/CUDA flavour needs the CUDA toolkit)"
  fi
fi

declare -A build_dir=([debian]="${BUILD_DIR:-$ROOT/build}" [pip]="${TORCH2_BUILD_DIR:-$ROOT/build-torch2}")
declare -A seconds=()

for flavour in $flavours; do
  [ -n "${build_dir[$flavour]:-}" ] || { log "unknown flavour '$flavour' (expected debian or pip)"; exit 2; }
  start=$SECONDS
  BUILD_DIR="${build_dir[$flavour]}" "$ROOT/scripts/setup.sh" --torch "$flavour"
  seconds[$flavour]=$((SECONDS - start))
done

status=0
summary=()
for flavour in $flavours; do
  start=$SECONDS
  log "ctest in ${build_dir[$flavour]} ($flavour flavour)"
  if (cd "${build_dir[$flavour]}" && ctest --output-on-failure -j "$JOBS" "$@"); then
    result=passed
  else
    result=FAILED
    status=1
  fi
  summary+=("$flavour: setup+build ${seconds[$flavour]} s, tests $((SECONDS - start)) s, $result")
done

sanitizers="${NEURALOM_SANITIZERS:-$([ $# -eq 0 ] && echo 1 || echo 0)}"
if [ "$sanitizers" = 1 ]; then
  start=$SECONDS
  if "$ROOT/scripts/test_sanitizers.sh"; then result=passed; else result=FAILED; status=1; fi
  summary+=("sanitizers (build, tests, fuzzing): $((SECONDS - start)) s, $result")
fi
for line in "${summary[@]}"; do log "$line"; done
exit $status
