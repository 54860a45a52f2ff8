#!/usr/bin/env bash
# Runs the libFuzzer targets (tests/fuzz/) for a bounded time each and summarises executions,
# speed and findings.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 300 s for each of all targets)
#
# Needs a build with NEURALOM_FUZZ=ON (clang), as scripts/test_sanitizers.sh makes in build-asan/.
# Each target starts from its seed corpus tests/fuzz/<target>/ (which is never modified) and keeps
# what it finds in <build>/fuzz/<target>/corpus, so a later run continues from there. A crash, leak,
# out-of-memory or timeout is saved as <build>/fuzz/<target>/{crash,leak,oom,timeout}-<sha1>, and
# the script exits 1: reproduce with `<build>/tests/fuzz/fuzz_<target> FILE`, fix, and commit the
# file as tests/fuzz/<target>/regress-<what> so that CTest replays it from then on.
#
# Environment: BUILD_DIR (default: build-asan), FUZZ_OUT (where corpora, findings and logs go;
# default <build>/fuzz), FUZZ_JOBS (targets fuzzed at once, default 1), FUZZ_RUNS (stop each
# target after this many executions, if that comes before SECONDS).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build-asan}"
SECONDS_EACH="${1:-300}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(npy yaml_config model_metadata hdf5_inputs cli_args)

log() { printf '[fuzz] %s\n' "$*" >&2; }

case "$SECONDS_EACH" in
  ''|*[!0-9]*) log "error: SECONDS must be a whole number, got '$SECONDS_EACH'"; exit 2 ;;
esac
for t in "${TARGETS[@]}"; do
  if [ ! -x "$BUILD_DIR/tests/fuzz/fuzz_$t" ]; then
    log "error: $BUILD_DIR/tests/fuzz/fuzz_$t not found; build with scripts/test_sanitizers.sh (needs clang)"
    exit 2
  fi
  if ! "$BUILD_DIR/tests/fuzz/fuzz_$t" -help=1 2>&1 | grep libFuzzer >/dev/null; then
    log "error: $BUILD_DIR/tests/fuzz/fuzz_$t is a corpus replayer, not a libFuzzer binary (NEURALOM_FUZZ=OFF)"
    exit 2
  fi
done

# Allocation stacks are recorded for every malloc; two frames are plenty to find a bug (replaying
# the saved input gives the full stack), and the fuzzers run much faster. A 16 MB quarantine
# (256 MB by default) keeps the fuzzer's memory small, which matters to hdf5_inputs, whose probing
# helper is a fork of it. allocator_may_return_null: malloc of an impossible size returns NULL, as
# glibc's does in production, for C libraries (HDF5) that check it; a C++ `new` of such a size is
# still reported.
export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=2:quarantine_size_mb=16:allocator_may_return_null=1}"

# The targets write their inputs to files; a RAM-backed directory keeps that cheap.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi

OUT_ROOT="${FUZZ_OUT:-$BUILD_DIR/fuzz}"

fuzz_one() {
  local t="$1" out="$OUT_ROOT/$1"
  mkdir -p "$out/corpus"
  local dict=()
  [ -f "$ROOT/tests/fuzz/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$t.dict")
  # rss_limit: a target must never need gigabytes (absurd declared sizes must be refused, not
  # allocated); timeout: nor seconds for one input.
  "$BUILD_DIR/tests/fuzz/fuzz_$t" "$out/corpus" "$ROOT/tests/fuzz/$t" "${dict[@]}" \
    -max_total_time="$SECONDS_EACH" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -rss_limit_mb=3072 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$out/" >"$out/log.txt" 2>&1
}

summary() {
  local t="$1" out="$OUT_ROOT/$1" rc="$2"
  local runs speed found
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log.txt" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out/log.txt" | tail -1)"
  found="$(find "$out" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'oom-*' -o -name 'timeout-*' \) | wc -l)"
  printf '%-16s %12s runs %8s exec/s  corpus %5s  findings %s%s\n' "$t" "${runs:-?}" "${speed:-?}" \
    "$(find "$out/corpus" -type f | wc -l)" "$found" "$([ "$rc" = 0 ] || echo "  (exit $rc, see $out/log.txt)")"
}

failed=0
jobs_at_once="${FUZZ_JOBS:-1}"
declare -A rcs=()
running=()
for t in "${TARGETS[@]}"; do
  log "fuzzing $t for ${SECONDS_EACH}s"
  if [ "$jobs_at_once" -le 1 ]; then
    rc=0; fuzz_one "$t" || rc=$?
    rcs[$t]=$rc
  else
    fuzz_one "$t" & running+=("$t:$!")
    if [ ${#running[@]} -ge "$jobs_at_once" ]; then
      entry="${running[0]}"; running=("${running[@]:1}")
      rc=0; wait "${entry#*:}" || rc=$?; rcs[${entry%%:*}]=$rc
    fi
  fi
done
for entry in "${running[@]}"; do
  rc=0; wait "${entry#*:}" || rc=$?; rcs[${entry%%:*}]=$rc
done
for t in "${TARGETS[@]}"; do
  summary "$t" "${rcs[$t]}"
  [ "${rcs[$t]}" = 0 ] || failed=1
done
if [ "$failed" != 0 ]; then
  log "findings above: reproduce with $BUILD_DIR/tests/fuzz/fuzz_<target> <file>"
  exit 1
fi
