#!/usr/bin/env bash
# One prepared check of the GPU path, for the first GPU machine (H100/H200) that is lent:
#
#   scripts/gpu_check.sh                 on the GPU machine: build, golden tests on cuda, benchmark
#   scripts/gpu_check.sh --cpu           the same steps on the CPU at a small size (CI, < 2 min)
#   scripts/gpu_check.sh --fetch-debs    here, beforehand, with network: the Debian packages the GPU
#                                        image lacks, pruned, into .gpu-debs/prefix.tar.xz
#
# Options: --bin PATH (use this neuralom binary, do not build), --out DIR (default: $OUT, else
# build/gpu_check), --size full|small (benchmark grid; default full on cuda, small with --cpu),
# --days N (day-steps per benchmark run; default 7 on a GPU: 3 eager warm-up steps, the capture of
# --cuda-graphs, 3 replays -- bench.json's seconds_per_day_step_after_warmup leaves out the first 4;
# 3 with --cpu), --device D (default cuda, cpu with --cpu).
#
# The GPU image has CUDA 13, cmake, ninja and a Python whose torch (2.11) carries LibTorch's CMake
# package (torch.utils.cmake_prefix_path), but no HDF5, spdlog, cxxopts, yaml-cpp, nlohmann-json,
# netCDF or OpenSSL headers, and no network: the packages fetched into .gpu-debs/ are unpacked with
# `dpkg -x` into a private prefix, which CMAKE_PREFIX_PATH and LD_LIBRARY_PATH then name.
#
# Steps, each timed and logged to <out>/gpu_check.log; results in <out>/gpu_check.json:
#   1. build    neuralom against the image's torch (Release, CUDA code paths on; of the tests
#               only neuralom_cuda_tests)
#   2. kernels  the CUDA kernels' unit tests (neuralom_cuda_tests, built when GoogleTest is in
#               .gpu-debs: tests/unit/model/cuda_fused_ops_test.cpp), results in cuda_kernels.json
#      golden   tests/e2e/test_simulate.py and test_forecast.py on the device (the goldens'
#               float32 bounds; needs pytest and h5py, which the GPU image has), the same with
#               --cuda-fused-kernels, then tests/e2e/test_fused_kernels.py: the golden rollouts
#               with --cuda-fused-kernels against the exported operators within the rollout bound
#               (all three CUDA kernels: without --deterministic, which gives the scatter-sum to ATen)
#   3. equal    eager vs CUDA graphs on the same input (max |difference|; identical on the CPU
#               by construction, as --cuda-graphs is refused there), eager vs --cuda-fused-kernels
#               (cuda only) and fp32 vs bf16 deviation
#   4. bench    `neuralom bench simulate`, random-init models of the size, precision
#               fp32/tf32/bf16 x batch 1/2/4, each with and without --cuda-graphs (cuda only);
#               fp32 and tf32 also with --cuda-fused-kernels (cuda only)
# Finishes within 8 minutes on an H200 node including the build.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
. "$ROOT/scripts/common.sh"

mode=gpu bin="" out="${OUT:-}" size="" days="" device=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) mode=cpu; shift ;;
    --fetch-debs) mode=fetch; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    -h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

DEBS="$ROOT/.gpu-debs"
# What the engine builds against, beyond the image's torch/CUDA/cmake/ninja; GoogleTest for the
# unit tests of the CUDA kernels (neuralom_cuda_tests).
DEB_PACKAGES=(libhdf5-dev libcxxopts-dev libspdlog-dev libyaml-cpp-dev nlohmann-json3-dev libssl-dev libnetcdf-dev
              libgtest-dev)
# Their dependencies that any Linux image has (the C library, the compiler's runtime), or that only
# tools and Fortran bindings need: not fetched, never put before the image's own libraries.
DEB_EXCLUDE='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|gcc-[0-9]+-base|libgcc-s1|libstdc\+\+6|libnsl2|libnsl-dev|libtirpc.*|rpcsvc-proto|zlib1g|catch2|icu-devtools|libicu-dev|libjpeg-dev|libjpeg62-turbo-dev|libxml2-dev|libcurl4-gnutls-dev|libcurl4-nss-dev|libcurl3-nss|libnss3|libnspr4|nss-plugin-pem|libhdf5-hl-fortran-100|libhdf5-fortran-102|libgfortran5|libquadmath0)$'
# pytest, h5py and numpy for the golden tests come from the GPU image's Python.

fetch_debs() {
  command -v apt-get >/dev/null || { echo "gpu_check.sh --fetch-debs: needs apt-get (Debian/Ubuntu)" >&2; exit 2; }
  local closure
  closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
              --no-enhances "${DEB_PACKAGES[@]}" | grep -E '^[a-z0-9]' | sort -u | grep -Ev "$DEB_EXCLUDE")
  tmp="$(mktemp -d)"   # global: the EXIT trap reads it
  trap 'rm -rf "$tmp"' EXIT
  echo "== $(echo "$closure" | wc -w) Debian packages"
  (cd "$tmp" && apt-get download $closure) || exit 1
  # The working tree travels with at most 64 MiB, the repository's test data included, so the
  # packages travel unpacked and pruned, as one archive: no documentation, tools, sources
  # (GoogleTest's) or static libraries (but GoogleTest's, which has no other kind), and ICU's 31 MB
  # data library (needed by libxml2, needed by netCDF's DAP client, which the check never uses)
  # replaced by a stub that only satisfies the linker and loader.
  mkdir -p "$tmp/prefix"
  local deb
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/prefix"; done
  (cd "$tmp/prefix" && rm -rf usr/share/doc usr/share/man usr/share/info usr/share/lintian usr/share/locale \
     usr/bin usr/sbin usr/src && find . -name '*.a' ! -name 'libgtest*.a' -delete) || exit 1
  local icu
  icu="$(ls "$tmp"/prefix/usr/lib/x86_64-linux-gnu/libicudata.so.*.* 2>/dev/null | head -n 1)"
  if [ -n "$icu" ]; then
    local major
    major="$(basename "$icu" | sed -E 's/libicudata\.so\.([0-9]+).*/\1/')"
    echo "const unsigned char icudt${major}_dat[64] = {0};" >"$tmp/icustub.c"
    cc -shared -fPIC -Wl,-soname,"libicudata.so.$major" -o "$icu" "$tmp/icustub.c" || exit 1
  fi
  mkdir -p "$DEBS"
  rm -rf "$DEBS"/*.deb "$DEBS"/wheels "$DEBS"/prefix.tar.xz
  tar -C "$tmp/prefix" --owner=0 --group=0 -cJf "$DEBS/prefix.tar.xz.partial" . &&
    mv "$DEBS/prefix.tar.xz.partial" "$DEBS/prefix.tar.xz" || exit 1
  # pytest and h5py are in the GPU image (the device's KINDS.md lists both); not carried.
  du -sh "$DEBS"
  echo "carry .gpu-debs to the GPU machine with the repository (it is git-ignored)"
}

if [ "$mode" = fetch ]; then fetch_debs; exit 0; fi

[ -n "$device" ] || { [ "$mode" = cpu ] && device=cpu || device=cuda; }
[ -n "$size" ] || { [ "$mode" = cpu ] && size=small || size=full; }
[ -n "$days" ] || { [ "$mode" = cpu ] && days=3 || days=7; }
[ -n "$out" ] || out="$ROOT/build/gpu_check"
mkdir -p "$out"
# The build and the runs: under <out> unless GPU_CHECK_WORK names a place (on the device machine,
# where what is under $OUT is sent back, a folder outside it).
work="${GPU_CHECK_WORK:-$out/work}"
mkdir -p "$work"
LOG="$out/gpu_check.log"
: > "$LOG"
T0=$(date +%s)
log() { printf '[gpu_check %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*" | tee -a "$LOG" >&2; }
# Runs a command with its output appended to the log; returns its status.
logged() { log "\$ $*"; "$@" >>"$LOG" 2>&1; }
STEPS=()     # name status seconds, one JSON object each
step() {     # step NAME STATUS SECONDS [NOTE]
  STEPS+=("{\"name\": \"$1\", \"status\": \"$2\", \"seconds\": $3, \"note\": \"${4:-}\"}")
}

python="$(find_python || true)"
[ -n "$python" ] || python="$(command -v python3)"

# --- benchmark assets, made in the background while the engine builds ------------------------------
case "$size" in
  full) model_args=(); res=(360 720) ;;
  small) model_args=(--input-res 32 64 --mesh-level 3 --hidden-dim 32 --processor-layers 4); res=(32 64) ;;
  *) echo "gpu_check.sh: --size must be full or small" >&2; exit 2 ;;
esac
assets="$work/assets_$size"
make_assets() {
  if [ ! -f "$assets/data/test/2020.h5" ]; then
    "$python" "$ROOT/scripts/make_synthetic_data.py" --out "$assets/data" --height "${res[0]}" \
      --width "${res[1]}" --days $((days + 4)) || return 1
  fi
  local k
  for k in 1 2; do
    [ -f "$assets/stage$k.pt" ] || "$python" "$ROOT/scripts/export_torchscript.py" --model "stage$k" \
      --random-init --seed "$k" --out "$assets/stage$k.pt" "${model_args[@]}" || return 1
  done
}
t_assets=$(date +%s)
make_assets >"$work/assets.log" 2>&1 &
assets_pid=$!

# --- 1. build --------------------------------------------------------------------------------------
unpack_debs() {
  # The pruned Debian packages (prefix.tar.xz, or .deb files) unpacked into a private prefix;
  # absolute symbolic links (e.g. hdf5/serial/include -> /usr/include/hdf5/serial) are pointed
  # into the prefix.
  local prefix="$1" deb link target
  mkdir -p "$prefix"
  if [ -f "$DEBS/prefix.tar.xz" ]; then
    tar -C "$prefix" -xJf "$DEBS/prefix.tar.xz" || return 1
  else
    for deb in "$DEBS"/*.deb; do dpkg -x "$deb" "$prefix"; done
  fi
  # netCDF's CMake package lists its own dependencies by absolute /usr paths (libxml2.so, libcurl.so,
  # ...), for static linking; the shared libnetcdf names them itself, found through LD_LIBRARY_PATH.
  local targets
  for targets in "$prefix"/usr/lib/*/cmake/netCDF/netCDFTargets.cmake; do
    [ -f "$targets" ] && sed -i -E 's#^( *INTERFACE_LINK_LIBRARIES ")[^"]*(")#\1\2#' "$targets"
  done
  while IFS= read -r link; do
    target="$(readlink "$link")"
    case "$target" in /*) ln -sfn "$prefix$target" "$link" ;; esac
    # A development link whose library was left out as one every image has (zlib's libz.so):
    # pointed at the image's own copy of that library, whatever its minor version.
    if [ ! -e "$link" ] && [[ "$link" == *.so ]]; then
      local own
      own="$(ls /lib/x86_64-linux-gnu/"$(basename "$link")".[0-9]* /usr/lib/x86_64-linux-gnu/"$(basename "$link")".[0-9]* \
               2>/dev/null | head -n 1)"
      [ -n "$own" ] && ln -sfn "$own" "$link"
    fi
  done < <(find "$prefix" -type l)
}

build() {
  local t=$(date +%s) prefix="$work/prefix" bdir="$work/build" torch_prefix multiarch=x86_64-linux-gnu
  # The torch root itself (not only its share/cmake), so that TorchConfig finds its own libraries
  # first (cmake/NeuralomTorch.cmake refuses a mix); nvcc as scripts/setup.sh --torch pip finds it.
  torch_prefix="$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')" || return 1
  local prefixes="$torch_prefix" extra=() nvcc
  if nvcc="$(find_nvcc)"; then
    # neuralom's own kernels for the GPU at hand only (H100/H200: 90), which builds faster.
    extra+=(-DCMAKE_CUDA_COMPILER="$nvcc" -DCUDA_TOOLKIT_ROOT_DIR="$(dirname "$(dirname "$nvcc")")"
            -DTORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
            -DNEURALOM_CUDA_ARCHITECTURES="${NEURALOM_CUDA_ARCHITECTURES:-90}")
  fi
  if [ -f "$DEBS/prefix.tar.xz" ] || ls "$DEBS"/*.deb >/dev/null 2>&1; then
    log "unpacking .gpu-debs into $prefix"
    unpack_debs "$prefix" || { step build failed $(( $(date +%s) - t )) "unpacking .gpu-debs"; return 1; }
    local lib="$prefix/usr/lib/$multiarch"
    prefixes="$prefixes;$prefix/usr;$lib/cmake"
    export LD_LIBRARY_PATH="$lib:$lib/hdf5/serial${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export PKG_CONFIG_PATH="$lib/pkgconfig:$prefix/usr/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$prefix"
    extra+=(-DHDF5_C_INCLUDE_DIR="$prefix/usr/include/hdf5/serial"
           -DHDF5_CXX_INCLUDE_DIR="$prefix/usr/include/hdf5/serial"
           -DHDF5_C_LIBRARY_hdf5="$lib/hdf5/serial/libhdf5.so"
           -DHDF5_CXX_LIBRARY_hdf5="$lib/hdf5/serial/libhdf5.so"
           -DHDF5_CXX_LIBRARY_hdf5_cpp="$lib/hdf5/serial/libhdf5_cpp.so"
           -DOPENSSL_ROOT_DIR="$prefix/usr")
  else
    log "no .gpu-debs: using the system's libraries"
  fi
  # With GoogleTest (from .gpu-debs or the system), the CUDA kernels' unit tests are built too;
  # if configuring them fails, the engine alone.
  local tests=OFF targets=(neuralom_cli) config
  for config in "$prefix"/usr/lib/*/cmake/GTest/GTestConfig.cmake /usr/lib/*/cmake/GTest/GTestConfig.cmake \
                /usr/lib/cmake/GTest/GTestConfig.cmake; do
    [ -f "$config" ] && tests=ON
  done
  configure() {  # configure TESTS
    # GPU_CHECK_CXX_FLAGS: e.g. -g1, so that a crash's backtrace can be read with addr2line.
    logged cmake -S "$ROOT" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefixes" \
      -DCMAKE_CXX_FLAGS="${GPU_CHECK_CXX_FLAGS:-}" \
      -DNEURALOM_BUILD_TESTS="$1" -DNEURALOM_PYTHON_TESTS=OFF -DNEURALOM_WITH_MPI=OFF -DNEURALOM_WITH_CUDA=AUTO \
      -DPython3_EXECUTABLE="$python" "${extra[@]}"
  }
  if [ "$tests" = ON ] && ! configure ON; then
    log "configuring with the CUDA kernels' unit tests failed; building the engine alone"
    tests=OFF
  fi
  if [ "$tests" = OFF ]; then
    configure OFF || { step build failed $(( $(date +%s) - t )); return 1; }
  fi
  # neuralom_cuda_tests exists in a CUDA build only.
  [ "$tests" = ON ] && grep -q "neuralom_cuda_tests" "$bdir/build.ninja" 2>/dev/null && targets+=(neuralom_cuda_tests)
  logged cmake --build "$bdir" --target "${targets[@]}" -j "$(nproc)" || { step build failed $(( $(date +%s) - t )); return 1; }
  bin="$bdir/neuralom"
  [ -x "$bdir/tests/unit/neuralom_cuda_tests" ] && cuda_tests="$bdir/tests/unit/neuralom_cuda_tests"
  step build ok $(( $(date +%s) - t ))
}

cuda_tests=""
if [ -z "$bin" ]; then
  if [ "$mode" = cpu ]; then bin="$(neuralom_binary "$ROOT")"; else build || { log "build failed, see $LOG"; }; fi
fi
[ -x "$bin" ] || { log "no neuralom binary ($bin)"; exit 1; }
log "binary: $bin"
logged "$bin" info

t=$(date +%s)
if wait "$assets_pid"; then
  step assets ok $(( $(date +%s) - t_assets ))
else
  cat "$work/assets.log" >>"$LOG"
  log "making the benchmark assets failed, see $LOG"
  exit 1
fi

# --- 2. the CUDA kernels' unit tests, then the golden tests on the device -----------------------------
if [ "$mode" = cpu ]; then
  step kernels skipped 0 "the kernels' arithmetic runs on the host in CTest (cuda_fused_rows_test)"
elif [ -z "$cuda_tests" ]; then
  step kernels skipped 0 "no neuralom_cuda_tests (GoogleTest missing: re-run --fetch-debs; or --bin was given)"
else
  t=$(date +%s)
  if logged "$cuda_tests" --gtest_output="json:$out/cuda_kernels.json"; then
    # On a GPU every test must have run: one skipped means the binary saw no device.
    skipped=$("$python" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(sum(t.get("result") == "SKIPPED" for s in r["testsuites"] for t in s["testsuite"]))' \
      "$out/cuda_kernels.json" 2>>"$LOG" || echo unknown)
    if [ "$skipped" = 0 ] || [ "$device" = cpu ]; then
      step kernels ok $(( $(date +%s) - t )) "$skipped skipped"
    else
      step kernels failed $(( $(date +%s) - t )) "$skipped test(s) skipped on $device: no GPU visible?"
    fi
  else
    step kernels failed $(( $(date +%s) - t )) "see cuda_kernels.json"
  fi
fi

golden() {
  local t=$(date +%s)
  if ! "$python" -c 'import pytest, h5py' 2>/dev/null; then
    step golden skipped $(( $(date +%s) - t )) "no pytest/h5py"
    return
  fi
  # Deterministic algorithms: the golden tests compare batch 2 with batch 1 and runs with each other
  # bit for bit, which CUDA's atomic scatter-adds do not give otherwise.
  local status=ok
  goldens "--deterministic" "$work/tests" "$ROOT/tests/e2e/test_simulate.py" "$ROOT/tests/e2e/test_forecast.py" ||
    status=failed
  # The fused CUDA kernels against the goldens (edge SiLU and LayerNorm + residual; the
  # scatter-sum is ATen's under --deterministic), then against the exported operators, atomics
  # included (on the CPU, where the flag is refused, test_fused_kernels checks the CPU's kernels).
  if [ "$device" != cpu ]; then
    goldens "--deterministic --cuda-fused-kernels" "$work/tests_goldens_fused" "$ROOT/tests/e2e/test_simulate.py" \
      "$ROOT/tests/e2e/test_forecast.py" || status=failed
  fi
  goldens "" "$work/tests_fused" "$ROOT/tests/e2e/test_fused_kernels.py" || status=failed
  step golden "$status" $(( $(date +%s) - t ))
}
goldens() {  # goldens RUN_FLAGS WORK_DIR TEST_FILE...
  local flags="$1" dir="$2"
  shift 2
  NEURALOM_BIN="$bin" NEURALOM_TEST_DEVICE="$device" NEURALOM_TEST_RUN_FLAGS="$flags" NEURALOM_PYTHON="$python" \
    NEURALOM_TEST_DATA_DIR="$ROOT/tests/data" NEURALOM_SOURCE_DIR="$ROOT" NEURALOM_TEST_WORK_DIR="$dir" \
    PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
    logged "$python" -m pytest -q -p no:cacheprovider -W "ignore:\`torch.jit.:FutureWarning" "$@"
}
if [ "$mode" = cpu ]; then
  step golden skipped 0 "the CPU golden tests run in CTest"
else
  golden
fi

# One benchmark run; prints its output directory, or nothing when it failed or time ran out.
BUDGET_SECONDS=${GPU_CHECK_BUDGET_SECONDS:-450}
bench() {  # bench NAME BATCH PRECISION GRAPHS SAVE_FIELDS [FUSED]
  local name="$1" batch="$2" precision="$3" graphs="$4" fused="${6:-0}" ics="0" i run="$work/runs/$1"
  if [ $(( $(date +%s) - T0 )) -gt "$BUDGET_SECONDS" ]; then
    log "$name: skipped, past the ${BUDGET_SECONDS} s budget"
    return
  fi
  for ((i = 1; i < batch; i++)); do ics="$ics,$i"; done
  local flags=(--precision "$precision")
  [ "$graphs" = 1 ] && flags+=(--cuda-graphs)
  [ "$fused" = 1 ] && flags+=(--cuda-fused-kernels)
  # Fields only where they are compared: writing them copies every day to the host.
  [ "$5" = 1 ] && flags+=(--save-fields --save-channels 0,23,46,69,92 --format hdf5)
  logged "$bin" bench simulate --data-dir "$assets/data" --stages "$assets/stage1.pt,$assets/stage2.pt" \
      --ics "$ics" --prediction-length $((days + 1)) --batch "$batch" --device "$device" --output "$run" \
      --overwrite --no-data-hash "${flags[@]}"
  local status=$?
  # A run that wrote its bench.json and then failed still has its timings: kept, with the status.
  [ "$status" = 0 ] || log "$name: exit status $status"
  echo "$status" >"$run.status" 2>/dev/null
  if [ "$status" = 0 ] || [ -f "$run/bench.json" ]; then echo "$run"; fi
}

# --- 4. equality and deviation -----------------------------------------------------------------------
t=$(date +%s)
eager=$(bench eager_fp32_b2 2 fp32 0 1)
bf16=$(bench eager_bf16_b2 2 bf16 0 1)
graphs="" fused=""
[ "$device" != cpu ] && graphs=$(bench graphs_fp32_b2 2 fp32 1 1)
[ "$device" != cpu ] && fused=$(bench eager_fp32_b2_fused 2 fp32 0 1 1)
compare() {  # compare RUN_A RUN_B -> {"max_abs": .., "rms": .., "rms_field": ..} or null
  [ -n "$1" ] && [ -n "$2" ] || { echo null; return; }
  "$python" - "$1/results_simulation.h5" "$2/results_simulation.h5" <<'EOF' 2>>"$LOG" || echo null
import json, sys
import h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["predicted"][...].astype(np.float64)
b = h5py.File(sys.argv[2], "r")["predicted"][...].astype(np.float64)
d = b[:, 1:] - a[:, 1:]
print(json.dumps({"max_abs": float(np.abs(d).max()), "rms": float(np.sqrt((d ** 2).mean())),
                  "rms_field": float(np.sqrt((a[:, 1:] ** 2).mean())), "identical": bool(np.array_equal(a, b))}))
EOF
}
if "$python" -c 'import h5py' 2>/dev/null; then
  eager_vs_graphs=$(compare "$eager" "$graphs")
  eager_vs_fused=$(compare "$eager" "$fused")
  fp32_vs_bf16=$(compare "$eager" "$bf16")
else
  eager_vs_graphs=null eager_vs_fused=null fp32_vs_bf16=null
fi
step compare ok $(( $(date +%s) - t ))

# --- 5. benchmark -----------------------------------------------------------------------------------
t=$(date +%s)
precisions=(fp32 bf16)
graph_modes=(0)
if [ "$device" != cpu ]; then precisions=(fp32 tf32 bf16); graph_modes=(0 1); fi
batches=(1 2 4)
[ "$mode" = cpu ] && batches=(1 2)
RESULTS=()
# Batch outermost (1, 4, then 2), so that what the time budget cuts first is batch 2.
[ "$mode" = cpu ] || batches=(1 4 2)
json_bool() { [ "$1" = 1 ] && echo true || echo false; }
for batch in "${batches[@]}"; do
  for precision in "${precisions[@]}"; do
    # The fused CUDA kernels replace float32 operators only: not for bf16.
    fused_modes=(0)
    [ "$device" != cpu ] && [ "$precision" != bf16 ] && fused_modes=(0 1)
    for f in "${fused_modes[@]}"; do
      for g in "${graph_modes[@]}"; do
        name="${precision}_b${batch}$([ "$g" = 1 ] && echo _graphs)$([ "$f" = 1 ] && echo _fused)"
        run=$(bench "$name" "$batch" "$precision" "$g" 0 "$f")
        record="\"name\": \"$name\", \"precision\": \"$precision\", \"batch\": $batch, \"cuda_graphs\": $(json_bool "$g"), \"cuda_fused_kernels\": $(json_bool "$f")"
        if [ -n "$run" ] && [ -f "$run/bench.json" ]; then
          RESULTS+=("{$record, \"exit_status\": $(cat "$run.status"), \"bench\": $(cat "$run/bench.json")}")
        else
          RESULTS+=("{$record, \"bench\": null}")
        fi
        log "$name: $(grep -oE '"seconds_per_day_step(_after_warmup)?": [0-9.eE+-]+' "$run/bench.json" 2>/dev/null | tr '\n' ' ' || echo failed)"
      done
    done
  done
done
missing=$(printf '%s\n' "${RESULTS[@]}" | grep -c '"bench": null}$')
if [ "$missing" = 0 ]; then step bench ok $(( $(date +%s) - t )); else step bench partial $(( $(date +%s) - t )) "$missing run(s) failed or skipped, see the log"; fi

join() { local IFS=,; echo "$*"; }
gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
cat > "$out/gpu_check.json" <<EOF
{
  "mode": "$mode",
  "device": "$device",
  "gpu": "${gpu_name:-none}",
  "size": "$size",
  "grid": [${res[0]}, ${res[1]}],
  "day_steps_per_run": $days,
  "binary": "$bin",
  "total_seconds": $(( $(date +%s) - T0 )),
  "steps": [$(join "${STEPS[@]}")],
  "eager_vs_cuda_graphs": $eager_vs_graphs,
  "eager_vs_cuda_fused_kernels": $eager_vs_fused,
  "fp32_vs_bf16": $fp32_vs_bf16,
  "benchmarks": [$(join "${RESULTS[@]}")]
}
EOF
log "wrote $out/gpu_check.json and $LOG"
"$python" -c 'import json, sys; json.load(open(sys.argv[1]))' "$out/gpu_check.json" || { log "gpu_check.json is not valid JSON"; exit 1; }
failed=$(printf '%s\n' "${STEPS[@]}" | grep -c '"failed"')
[ "$failed" = 0 ] || { log "$failed step(s) failed"; exit 1; }
