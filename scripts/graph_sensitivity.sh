#!/usr/bin/env bash
# How much does the mesh arithmetic matter with trained weights? Exports the demo's trained models
# with --mesh-arithmetic portable (the graph they were trained on, the same everywhere) and with
# --mesh-arithmetic reference (the graph the reference code builds on *this* machine), runs the
# demo's 30-day simulate and forecast rollouts with each, and prints per variable the maximum and
# RMS difference of the predicted fields and the change in skill (scripts/compare_runs.py).
#
#   scripts/graph_sensitivity.sh [OUT_DIR]      (default build/graph_sensitivity)
#
# On a machine whose BLAS sdot has no FMA kernel the two graphs are equal and every difference
# is 0. Needs the demo data (scripts/demo.sh makes it) and a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh disable=SC1091
source "$ROOT/scripts/common.sh"
PY="$(require_python)"
BIN="$(neuralom_binary "$ROOT")"
OUT="${1:-$ROOT/build/graph_sensitivity}"
MODELS="$ROOT/data/demo_models"
[ -d "$ROOT/data/demo" ] || "$PY" "$ROOT/scripts/make_demo_data.py" --out "$ROOT/data/demo"

for arithmetic in portable reference; do
  dir="$OUT/$arithmetic"
  mkdir -p "$dir"
  for kind in stage1 stage2 atmos; do
    "$PY" "$ROOT/scripts/export_torchscript.py" --model "$kind" --checkpoint "$MODELS/${kind}_best_ckpt.tar" \
      --out "$dir/$kind.pt" --input-res 32 64 --mesh-level 3 --hidden-dim 32 --processor-layers 4 \
      --mesh-arithmetic "$arithmetic" 2>&1 | grep -E "graph:" || true
  done
  common=(--config-file "$ROOT/configs/demo.yaml" --overwrite --stages "$dir/stage1.pt,$dir/stage2.pt"
          --save-channels "$(seq -s, 0 92)" --log-level warn)
  "$BIN" simulate "${common[@]}" --output "$dir/simulate" >/dev/null
  "$BIN" forecast "${common[@]}" --atmos "$dir/atmos.pt" --output "$dir/forecast" >/dev/null
done
for mode in simulate forecast; do
  "$PY" "$ROOT/scripts/compare_runs.py" "$OUT/portable/$mode" "$OUT/reference/$mode" \
    --labels portable,reference --leads 1,10,30
done
