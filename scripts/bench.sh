#!/usr/bin/env bash
# Benchmarks neuralom against the Python baseline on the same machine, same data, same size:
# synthetic data and random-init models of the given size (reference size by default), then
# `neuralom bench simulate` and scripts/bench_python.py; prints both reports and the speed-up.
#
#   scripts/bench.sh [--size full|medium|small] [--days N] [--batch B] [--threads T] [--device D]
#                    [--no-python] [-- extra neuralom options]
#
# full = the reference configuration (360x720, mesh 5, hidden 432, 16 layers; ~140 s and ~10 GB
# per day-step on 2 CPU cores); medium = 180x360, mesh 4, hidden 128; small = 32x64, mesh 3,
# hidden 32. Assets are cached in build/bench/<size>/. Reports: build/bench/<size>/*.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/common.sh"

size=full days=3 batch=1 threads=0 device=cpu python_baseline=1
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --size) size="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --batch) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --no-python) python_baseline=0; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$size" in
  full) model_args=() ; res=(360 720) ;;
  medium) model_args=(--input-res 180 360 --mesh-level 4 --hidden-dim 128 --processor-layers 16); res=(180 360) ;;
  small) model_args=(--input-res 32 64 --mesh-level 3 --hidden-dim 32 --processor-layers 4); res=(32 64) ;;
  *) echo "bench.sh: --size must be full, medium or small" >&2; exit 2 ;;
esac

python="$(require_python)"
neuralom="$(neuralom_binary "$ROOT")"
dir="$ROOT/build/bench/$size"
mkdir -p "$dir"
# Days in the file: the rollout's days plus one IC per batch slot.
file_days=$((days + batch))
if [ ! -f "$dir/data/test/2020.h5" ] || [ "$(cat "$dir/data/.days" 2>/dev/null)" != "$file_days" ]; then
  rm -rf "$dir/data"
  "$python" "$ROOT/scripts/make_synthetic_data.py" --out "$dir/data" --height "${res[0]}" --width "${res[1]}" \
    --days "$file_days"
  echo "$file_days" > "$dir/data/.days"
fi
for k in 1 2; do
  # Exported again when the exporter changed since (a stale archive would lack its newer methods).
  if [ ! -f "$dir/stage$k.pt" ] || [ -n "$(find "$ROOT/scripts/neuralom_export" -name '*.py' -newer "$dir/stage$k.pt")" ]; then
    "$python" "$ROOT/scripts/export_torchscript.py" --model "stage$k" --random-init --seed "$k" \
      --out "$dir/stage$k.pt" "${model_args[@]}"
  fi
done

ics="0"
for ((i = 1; i < batch; i++)); do ics="$ics,$i"; done
thread_args=()
[ "$threads" != 0 ] && thread_args=(--threads "$threads")

echo "== neuralom bench ($size, batch $batch, $device)" >&2
/usr/bin/time -v "$neuralom" bench simulate --data-dir "$dir/data" --stages "$dir/stage1.pt,$dir/stage2.pt" \
  --prediction-length "$days" --ics "$ics" --batch "$batch" --device "$device" --output "$dir/neuralom" \
  --overwrite --no-data-hash "${thread_args[@]}" "${extra[@]}" 2> "$dir/neuralom.log" | tee "$dir/neuralom.txt"
grep -E "Maximum resident|Elapsed" "$dir/neuralom.log" >&2 || true

if [ "$python_baseline" = 1 ]; then
  echo "== Python baseline (eager, batch 1, no I/O overlap)" >&2
  /usr/bin/time -v "$python" "$ROOT/scripts/bench_python.py" --data-dir "$dir/data" --ics "$ics" \
    --prediction-length "$days" --out "$dir/python.json" ${threads:+--threads "$threads"} \
    $( [ ${#model_args[@]} -gt 0 ] && echo "${model_args[@]}" ) > /dev/null 2> "$dir/python.log"
  grep -E "Maximum resident|Elapsed" "$dir/python.log" >&2 || true
  "$python" - "$dir/neuralom/bench.json" "$dir/python.json" <<'PY'
import json, sys
ours, base = (json.load(open(p)) for p in sys.argv[1:3])
print(f"seconds per day-step: neuralom {ours['seconds_per_day_step']:.3f}, python {base['seconds_per_day_step']:.3f}"
      f" -> speed-up x{base['seconds_per_day_step'] / ours['seconds_per_day_step']:.2f}")
print(f"peak host memory: neuralom {ours['peak_host_gib']:.2f} GiB, python {base['peak_host_gib']:.2f} GiB")
PY
fi
