"""neuralom's fused kernels (model/fused_kernels.h, put in by model/kernel_fusion.h) replace each
edge MLP's gather + add + SiLU sequence and each LayerNorm followed by a residual sum or a
scatter-sum: on the CPU, where on the golden cases the rollouts equal the exported operators'
(`--no-fused-kernels`) bit for bit, the log counts the sequences fused, and run.json records the
choice; and on a GPU with --cuda-fused-kernels (scripts/gpu_check.sh runs this file with
NEURALOM_TEST_DEVICE=cuda), where the CUDA kernels round differently and the scatter-sum adds
atomically, so the rollouts agree within float32_bounds' ROLLOUT instead (the bound for a
4-frame rollout whose sums are reordered: the golden README's 1e-4 at the golden fields'
magnitude)."""

import json
import os

import h5py
import numpy as np
import pytest

from conftest import golden_rollout, predicted_fields
from float32_bounds import ROLLOUT, ulps
from test_forecast import forecast

ON_CPU = (os.environ.get("NEURALOM_TEST_DEVICE", "cpu") or "cpu") == "cpu"
# What turns the fused kernels on: the default on the CPU, a flag on a GPU.
FUSED_FLAGS = () if ON_CPU else ("--cuda-fused-kernels",)
# A golden ocean stage (MIGraph, 4 processor layers, each an edge block and a node block):
# - edge MLPs with the gather + add + SiLU sequence: the encoder's, one per layer, the decoder's;
# - LayerNorms followed by a residual sum: each layer's edge and node update (x <- MLP(.) + x), the
#   encoder's mesh-node and grid-node updates and the decoder's grid-node update;
# - LayerNorms followed by a scatter-sum: the encoder's and the decoder's edge messages.
EDGE_SILU = 6
LAYER_NORM_ADD = 2 * 4 + 3
LAYER_NORM_INDEX_ADD = 2
# The golden atmosphere model (OneForecast, 4 layers): its gated edge updates scale the LayerNorm's
# output by the gates before the residual, so only the attention node updates' residuals are fused.
ATMOS_LAYER_NORM_ADD = 4 + 3


def fused_line(edge_silu, layer_norm_add, layer_norm_index_add):
    return (f": fused {edge_silu} edge gather + add + SiLU, {layer_norm_add} LayerNorm + residual and "
            f"{layer_norm_index_add} LayerNorm + scatter-sum sequences")


@pytest.fixture(scope="module")
def simulations(neuralom, golden_stages, work_dir):
    runs = {}
    for name, extra in (("fused", FUSED_FLAGS), ("unfused", ("--no-fused-kernels",))):
        out = work_dir / f"fused_kernels_{name}"
        runs[name] = (out, golden_rollout(neuralom, golden_stages, out, "--log-level", "debug", *extra))
    return runs


def assert_same_rollout(fused, unfused):
    """Bit for bit on the CPU; on a GPU within the bound of a rollout whose sums are reordered (the
    CUDA LayerNorm's reduction order; atomic scatter-sums in both runs)."""
    assert fused.shape == unfused.shape
    if ON_CPU:
        assert np.array_equal(fused, unfused)
    else:
        difference = float(np.abs(fused.astype(np.float64) - unfused).max())
        print(f"max |fused - unfused| = {difference:.3e} (bound {ulps(unfused, ROLLOUT):.3e})")
        assert np.isfinite(fused).all() and difference <= ulps(unfused, ROLLOUT), difference


def test_the_rollout_equals_the_exported_operators(simulations):
    assert_same_rollout(predicted_fields(simulations["fused"][0]), predicted_fields(simulations["unfused"][0]))


def test_every_sequence_is_fused_and_the_choice_is_recorded(simulations):
    log = simulations["fused"][1].stderr
    assert log.count(fused_line(EDGE_SILU, LAYER_NORM_ADD, LAYER_NORM_INDEX_ADD)) == 2, log  # stage 1 and 2
    assert "LayerNorm + scatter-sum sequences" not in simulations["unfused"][1].stderr
    plans = {name: run[1].stdout + run[1].stderr for name, run in simulations.items()}
    if ON_CPU:
        assert "unfused" in plans["unfused"]
    else:
        assert "CUDA fused kernels" in plans["fused"] and "CUDA fused kernels" not in plans["unfused"]
    for name, flag in (("fused", True), ("unfused", False)):
        settings = json.loads((simulations[name][0] / "run.json").read_text())["settings"]
        assert settings["fused_kernels"] is flag


def test_the_forecast_with_the_atmosphere_model_equals_the_exported_operators(neuralom, golden_stages, golden_atmos,
                                                                               work_dir):
    fields = []
    for name, extra in (("fused", FUSED_FLAGS), ("unfused", ("--no-fused-kernels",))):
        out = work_dir / f"fused_kernels_forecast_{name}"
        result = forecast(neuralom, golden_stages, golden_atmos, out, "--save-fields", "--log-level", "debug", *extra)
        assert result.returncode == 0, result.stderr
        if name == "fused":
            assert result.stderr.count(fused_line(EDGE_SILU, LAYER_NORM_ADD, LAYER_NORM_INDEX_ADD)) == 2, result.stderr
            # The atmosphere model's gated edge blocks have the edge sequence too.
            assert result.stderr.count(fused_line(EDGE_SILU, ATMOS_LAYER_NORM_ADD, LAYER_NORM_INDEX_ADD)) == 1, \
                result.stderr
        with h5py.File(out / "results_forecasting.h5", "r") as f:
            fields.append(f["predicted"][...])
    assert_same_rollout(fields[0], fields[1])
