"""neuralom's fused edge kernel (model/fused_kernels.h) replaces each edge MLP's gather + add +
SiLU sequence when the networks run on the CPU: on the golden cases the rollouts equal the
exported operators' (`--no-fused-kernels`) bit for bit, the log counts the sequences fused, and
run.json records the choice."""

import json
import os

import h5py
import numpy as np
import pytest

from conftest import golden_rollout, predicted_fields
from test_forecast import forecast

ON_CPU = (os.environ.get("NEURALOM_TEST_DEVICE", "cpu") or "cpu") == "cpu"
# Edge MLPs with the sequence in a golden network (4 layers): the encoder's, one per processor
# layer, the decoder's.
SEQUENCES = 6


@pytest.fixture(scope="module")
def simulations(neuralom, golden_stages, work_dir):
    runs = {}
    for name, extra in (("fused", ()), ("unfused", ("--no-fused-kernels",))):
        out = work_dir / f"fused_kernels_{name}"
        runs[name] = (out, golden_rollout(neuralom, golden_stages, out, "--log-level", "debug", *extra))
    return runs


def test_the_rollout_equals_the_exported_operators_bit_for_bit(simulations):
    assert np.array_equal(predicted_fields(simulations["fused"][0]), predicted_fields(simulations["unfused"][0]))


@pytest.mark.skipif(not ON_CPU, reason="the fused kernel is a CPU kernel; other devices run the exported operators")
def test_every_edge_mlp_is_fused_and_the_choice_is_recorded(simulations):
    log = simulations["fused"][1].stderr
    assert log.count(f": {SEQUENCES} edge gather + add + SiLU sequences fused") == 2, log  # stage 1 and 2
    assert "sequences fused" not in simulations["unfused"][1].stderr
    assert "unfused" in simulations["unfused"][1].stdout + simulations["unfused"][1].stderr  # the plan
    for name, flag in (("fused", True), ("unfused", False)):
        settings = json.loads((simulations[name][0] / "run.json").read_text())["settings"]
        assert settings["fused_kernels"] is flag


def test_the_forecast_with_the_atmosphere_model_equals_the_exported_operators(neuralom, golden_stages, golden_atmos,
                                                                               work_dir):
    fields = []
    for name, extra in (("fused", ()), ("unfused", ("--no-fused-kernels",))):
        out = work_dir / f"fused_kernels_forecast_{name}"
        result = forecast(neuralom, golden_stages, golden_atmos, out, "--save-fields", "--log-level", "debug", *extra)
        assert result.returncode == 0, result.stderr
        if name == "fused" and ON_CPU:
            # The atmosphere model's gated edge blocks have the sequence too.
            assert result.stderr.count("sequences fused") == 3, result.stderr
        with h5py.File(out / "results_forecasting.h5", "r") as f:
            fields.append(f["predicted"][...])
    assert np.array_equal(fields[0], fields[1])
