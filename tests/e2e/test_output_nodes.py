"""The ocean stages compute their outputs only at grid points that are ocean in some output channel
(the rest are masked to 0 anyway), on golden/ocean_small: the same rollout as `--decode-land` to
float32 rounding, reported in the log and run.json, and archives exported before the exporter
could do it still run (on every point, with a note saying so)."""

import json

import h5py
import numpy as np
import pytest

from conftest import GOLDEN, export_legacy_stages, golden_rollout as simulate, predicted_fields as predicted
from float32_bounds import ROLLOUT, ulps

DATA = GOLDEN / "ocean_small" / "data"
OCEAN_CHANNELS = 93  # the golden case's output channels, file channels 0:93
HEIGHT, WIDTH = 32, 64  # the models' grid: the file's first rows and columns (it has 33 rows)


def land_everywhere():
    """[H, W] bool: land in every output channel of the golden mask (non-zero is ocean)."""
    with h5py.File(DATA / "land_mask.h5", "r") as f:
        mask = f["fields"][0, :OCEAN_CHANNELS, :HEIGHT, :WIDTH] != 0
    return ~mask.any(axis=0)


@pytest.fixture(scope="module")
def runs(neuralom, golden_stages, work_dir):
    outputs = {}
    for name, extra in (("default", ()), ("decode_land", ("--decode-land",))):
        out = work_dir / f"output_nodes_{name}"
        outputs[name] = (out, simulate(neuralom, golden_stages, out, *extra))
    return outputs


def test_skipping_land_keeps_the_rollout_to_rounding(runs):
    land = land_everywhere()
    assert 0 < land.sum() < land.size  # the golden case has such points
    skipped = predicted(runs["default"][0])
    computed = predicted(runs["decode_land"][0])
    diff = float(np.abs(skipped - computed).max())
    print(f"max abs difference, land skipped vs decoded: {diff:.3e} over {int(land.sum())} land points")
    assert diff <= ulps(computed, ROLLOUT)
    # Both are masked there (normalised 0, written denormalised: the channel means), whichever way
    # they were computed.
    assert not np.isnan(skipped).any()
    assert np.array_equal(skipped[..., land], computed[..., land])


def test_the_choice_is_logged_and_recorded(runs):
    land = land_everywhere()
    ocean = land.size - int(land.sum())
    default_log = runs["default"][1].stderr
    assert f"decoder at {ocean} of {land.size} grid points (the other {int(land.sum())} are land" in default_log
    decoded = runs["decode_land"][1]
    assert "decoder at" not in decoded.stderr
    assert "land decoded" in decoded.stdout + decoded.stderr  # the plan
    for name, flag in (("default", False), ("decode_land", True)):
        settings = json.loads((runs[name][0] / "run.json").read_text())["settings"]
        assert settings["decode_land"] is flag


def test_an_archive_from_before_output_nodes_computes_every_point(neuralom, work_dir, runs):
    legacy = export_legacy_stages(work_dir / "legacy_output_nodes", "set_output_nodes")
    out = work_dir / "output_nodes_legacy"
    result = simulate(neuralom, legacy, out)
    assert "predates output nodes: its decoder also runs at the" in result.stderr
    # The same arithmetic as --decode-land with a current archive: bit for bit.
    assert np.array_equal(predicted(out), predicted(runs["decode_land"][0]))
