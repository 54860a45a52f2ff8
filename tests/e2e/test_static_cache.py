"""`--static-cache auto|light|full|off` on golden/ocean_small: light and full give the same numbers
bit for bit, off the same up to float32 rounding, auto is light on the CPU, and an archive exported
before the light cache existed still runs (with the full cache, and a warning saying so)."""

import json
import os

import numpy as np
import pytest

from conftest import export_legacy_stages, golden_rollout as simulate, predicted_fields as predicted
from float32_bounds import ROLLOUT, ulps

DEVICE = os.environ.get("NEURALOM_TEST_DEVICE", "cpu") or "cpu"


def level(output):
    """The static cache level run.json records (resolved: never auto)."""
    return json.loads((output / "run.json").read_text())["settings"]["static_cache"]


@pytest.fixture(scope="module")
def runs(neuralom, golden_stages, work_dir):
    outputs = {}
    for level in ("default", "light", "full", "off"):
        out = work_dir / f"static_cache_{level}"
        extra = () if level == "default" else ("--static-cache", level)
        result = simulate(neuralom, golden_stages, out, *extra)
        outputs[level] = (out, result)
    return outputs


def test_light_and_full_are_bit_identical_and_off_differs_by_rounding_only(runs):
    full = predicted(runs["full"][0])
    assert np.array_equal(predicted(runs["light"][0]), full)
    off = predicted(runs["off"][0])
    diff = float(np.abs(off - full).max())
    print(f"max abs difference off vs full: {diff:.3e}")
    assert diff <= ulps(full, ROLLOUT)


def test_the_level_is_reported_and_auto_is_light_on_the_cpu(runs):
    expected_auto = "light" if DEVICE == "cpu" else "full"
    assert level(runs["default"][0]) == expected_auto
    assert f"static cache {expected_auto}" in runs["default"][1].stdout + runs["default"][1].stderr
    for name in ("light", "full", "off"):
        assert level(runs[name][0]) == name


def test_an_archive_from_before_the_light_cache_runs_with_the_full_one(neuralom, work_dir, runs):
    legacy = export_legacy_stages(work_dir / "legacy", "build_light_static_cache")
    out = work_dir / "static_cache_legacy"
    result = simulate(neuralom, legacy, out, "--static-cache", "light")
    assert "predates the light static cache: building the full one" in result.stderr
    assert np.array_equal(predicted(out), predicted(runs["full"][0]))
