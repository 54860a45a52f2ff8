#!/usr/bin/env bash
# The reference's inference_forecasting.sh, run with neuralom: as scripts/inference_simulation.sh,
# with the atmosphere model (training_checkpoints_atmos/best_ckpt.pt) producing the forcing and
# results_forecasting.h5 as output. Extra arguments go to `neuralom forecast`.
set -euo pipefail
MODE=forecast exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/inference_simulation.sh" "$@"
