#!/usr/bin/env bash
# The embedded demo: a synthetic 32x64 ocean, small trained NeuralOM networks, and the engine.
#
#   scripts/demo.sh [--retrain]
#
# 1. builds build/neuralom if missing (scripts/setup.sh);
# 2. generates data/demo/ if missing (scripts/make_demo_data.py, ~10 s, ~260 MiB);
# 3. with --retrain, retrains data/demo_models/ (scripts/train_demo.py, ~3-5 min; else committed);
# 4. runs `neuralom simulate` and `neuralom forecast` (configs/demo.yaml) into build/demo/, writing
#    CF-NetCDF fields (results_*.nc, absolute values with the truth), metrics.nc and extremes.csv;
# 5. prints model vs persistence vs climatology at lead days 1, 10, 30 (RMSE/ACC and extreme-event
#    CSI/SEDI) and draws maps from the NetCDF file and skill curves (PNG paths).
# DEMO_QUICK=1: fewer initial conditions and a shorter lead (for tests). Rerunning is safe.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh disable=SC1091
source "$ROOT/scripts/common.sh"

RETRAIN=0
for arg in "$@"; do
  case "$arg" in
    --retrain) RETRAIN=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) printf 'error: unknown argument %s (try --help)\n' "$arg" >&2; exit 2 ;;
  esac
done

# Set-up first: on a fresh machine it installs the packages (Python with torch included) and builds.
if [ -z "${NEURALOM_BIN:-}" ] && { [ ! -x "$ROOT/build/neuralom" ] || ! find_python >/dev/null; }; then
  echo "== installing and building (scripts/setup.sh)"
  "$ROOT/scripts/setup.sh"
fi
PY="$(require_python)"
BIN="$(neuralom_binary "$ROOT")"

echo "== demo data (data/demo)"
"$PY" "$ROOT/scripts/make_demo_data.py" --out "$ROOT/data/demo"

MODELS="$ROOT/data/demo_models"
if [ "$RETRAIN" = 1 ] || [ ! -f "$MODELS/stage1.pt" ] || [ ! -f "$MODELS/stage2.pt" ] || [ ! -f "$MODELS/atmos.pt" ]; then
  echo "== training the demo models (data/demo_models)"
  "$PY" "$ROOT/scripts/train_demo.py" --data "$ROOT/data/demo" --out "$MODELS"
fi

if [ "${DEMO_QUICK:-0}" = 1 ]; then
  ICS="0:60:15"; LENGTH=11; LEADS="1,10"
else
  ICS="0:70:5"; LENGTH=31; LEADS="1,10,30"
fi
OUT="${DEMO_OUTPUT:-$ROOT/build/demo}"
CHANNELS="T0,S0,U0,V0,SSH"
COMMON=(--config-file "$ROOT/configs/demo.yaml" --overwrite --ics "$ICS" --prediction-length "$LENGTH"
        --baselines --save-fields --save-channels "$CHANNELS" --threads "${DEMO_THREADS:-1}"
        --format netcdf --save-truth --extremes)

echo "== neuralom simulate (ICs $ICS, $((LENGTH - 1)) days)"
"$BIN" simulate "${COMMON[@]}" --output "$OUT/simulate"
echo "== neuralom forecast (ICs $ICS, $((LENGTH - 1)) days, atmosphere model)"
"$BIN" forecast "${COMMON[@]}" --atmos "$MODELS/atmos.pt" --output "$OUT/forecast"

echo
for mode in simulate forecast; do
  "$PY" "$ROOT/scripts/plot_results.py" "$OUT/$mode" --table --leads "$LEADS" --variables T0,S0,U0,V0,SSH,ALL
  echo
done
echo "== plots"
for mode in simulate forecast; do
  "$PY" "$ROOT/scripts/plot_results.py" "$OUT/$mode" --variable T0 --lead 10
  "$PY" "$ROOT/scripts/plot_results.py" "$OUT/$mode" --variable ALL --lead 10 2>/dev/null
done
