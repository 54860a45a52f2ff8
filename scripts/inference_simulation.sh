#!/usr/bin/env bash
# The reference's inference_simulation.sh, run with neuralom: the same experiment variables, the
# same layout (./exp/<config>/<run_num>/<finetune_dir>, ./data), results_simulation.h5 written next
# to the checkpoints. Stage checkpoints (best_ckpt.tar) without an exported TorchScript model beside
# them (best_ckpt.pt) are exported first. Extra arguments go to `neuralom simulate`, e.g.
#   scripts/inference_simulation.sh --batch 4 --ics 0:10
# Set SAVE_FIELDS=0 to write only the metrics (the full fields file is ~1.4 TB per dataset).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$ROOT/scripts/common.sh"

prediction_length=${prediction_length:-61}
exp_dir=${exp_dir:-./exp}
config=${config:-NeuralOM}
run_num=${run_num:-20250309-195251}
finetune_dir=${finetune_dir:-6_steps_finetune}
mode=${MODE:-simulate}

run_dir="$exp_dir/$config/$run_num/$finetune_dir"
export_if_needed() {  # <kind> <dir with best_ckpt.*>
  local kind="$1" dir="$2"
  if [ ! -f "$dir/best_ckpt.pt" ] && [ -f "$dir/best_ckpt.tar" ]; then
    local python
    python="$(require_python)"
    echo "exporting $dir/best_ckpt.tar -> $dir/best_ckpt.pt" >&2
    "$python" "$ROOT/scripts/export_torchscript.py" --model "$kind" --checkpoint "$dir/best_ckpt.tar" \
      --out "$dir/best_ckpt.pt"
  fi
}
export_if_needed stage1 "$run_dir/training_checkpoints"
export_if_needed stage2 "$run_dir/model2/10_steps_finetune/training_checkpoints"
if [ "$mode" = forecast ]; then
  export_if_needed atmos "$run_dir/training_checkpoints_atmos"
fi

save_fields=()
[ "${SAVE_FIELDS:-1}" = 1 ] && save_fields=(--save-fields)

exec "$(neuralom_binary "$ROOT")" "$mode" --exp-dir "$exp_dir" --config "$config" --run-num "$run_num" \
  --finetune-dir "$finetune_dir" --prediction-length "$prediction_length" "${save_fields[@]}" "$@"
