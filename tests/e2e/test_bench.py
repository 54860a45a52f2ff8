"""`neuralom bench`: the timed run's report, and the operator profile of --profile-ops counting the
operators the engine really runs (its fused kernel included) on the golden case."""

import json
import os

import pytest

from conftest import GOLDEN

ON_CPU = (os.environ.get("NEURALOM_TEST_DEVICE", "cpu") or "cpu") == "cpu"
# Golden case: ICs 0 and 1, prediction length 4 = 3 day-steps each, batch 1: 6 day-steps of 2 stages.
DAY_STEPS = 6
FORWARDS = 2 * DAY_STEPS
# Edge MLPs with the gather + add + SiLU sequence in a golden network (4 processor layers): the
# encoder's, one per processor layer, the decoder's; each runs once per forward (one edge chunk).
EDGE_MLPS = 6
# LayerNorms followed by a residual sum and by a scatter-sum (tests/e2e/test_fused_kernels.py).
LAYER_NORM_ADD = 11
LAYER_NORM_INDEX_ADD = 2
# Rows of the operator table that `neuralom bench --profile-ops` prints (kTopOperators).
TOP_OPERATORS = 15


def bench(neuralom, stages, output, *extra):
    result = neuralom("bench", "simulate", "--data-dir", GOLDEN / "ocean_small" / "data", "--stages",
                      f"{stages[0]},{stages[1]}", "--prediction-length", 4, "--ics", "0,1", "--output", output,
                      "--threads", 2, *extra)
    assert result.returncode == 0, result.stderr
    return result, json.loads((output / "bench.json").read_text())


def operators(report):
    return {op["name"]: op for op in report["operators"]}


@pytest.fixture(scope="module")
def profiled(neuralom, golden_stages, work_dir):
    return bench(neuralom, golden_stages, work_dir / "bench_profile", "--profile-ops")


@pytest.mark.skipif(not ON_CPU, reason="--profile-ops times CPU operators")
def test_the_profile_counts_each_call_of_the_fused_kernel(profiled):
    result, report = profiled
    assert report["day_steps"] == DAY_STEPS
    ops = operators(report)
    assert ops["neuralom::edge_silu"]["calls"] == EDGE_MLPS * FORWARDS
    # Every edge MLP's second layer and LayerNorm run once per forward too (more layers have them).
    assert ops["aten::native_layer_norm"]["calls"] >= EDGE_MLPS * FORWARDS
    assert ops["aten::addmm"]["calls"] >= EDGE_MLPS * FORWARDS
    for op in report["operators"]:
        assert op["calls"] > 0 and 0 <= op["self_seconds"] <= op["total_seconds"] + 1e-9, op
    selfs = [op["self_seconds"] for op in report["operators"]]
    assert selfs == sorted(selfs, reverse=True)
    assert report["operators_self_seconds"] == pytest.approx(sum(selfs))
    # The rollout only: the models' load and probe forwards are not counted, so the operators'
    # time on the main thread stays within the rollout's wall time (other threads add to the sum).
    assert ops["aten::addmm"]["total_seconds"] < report["wall_seconds"]
    # The terminal shows the top of that list, in its order: which operators make the top depends
    # on the build's kernels (torch 2.x's SiLU is twice as fast as 1.13's, for one).
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "operators by self time" in line) + 1
    top = min(TOP_OPERATORS, len(report["operators"]))
    shown = [line.split()[0] for line in lines[start:start + top]]
    assert shown == [op["name"] for op in report["operators"][:top]]
    assert lines[start + top].startswith("wrote ")
    # The fused LayerNorm kernels run once per LayerNorm they replaced, with ATen's LayerNorm inside.
    assert ops["neuralom::layer_norm_add"]["calls"] == LAYER_NORM_ADD * FORWARDS
    assert ops["neuralom::layer_norm_index_add_"]["calls"] == LAYER_NORM_INDEX_ADD * FORWARDS
    assert ops["neuralom::layer_norm_add"]["total_seconds"] >= ops["neuralom::layer_norm_add"]["self_seconds"]


@pytest.mark.skipif(not ON_CPU, reason="--profile-ops times CPU operators")
def test_without_the_fused_kernel_the_profile_shows_the_exported_operators(neuralom, golden_stages, work_dir):
    _, report = bench(neuralom, golden_stages, work_dir / "bench_profile_unfused", "--profile-ops",
                      "--no-fused-kernels")
    ops = operators(report)
    assert not [name for name in ops if name.startswith("neuralom::")]
    assert ops["aten::silu_"]["calls"] >= EDGE_MLPS * FORWARDS
    assert ops["aten::index_select"]["calls"] >= 2 * EDGE_MLPS * FORWARDS


def test_without_the_flag_there_is_no_profile(neuralom, golden_stages, work_dir):
    result, report = bench(neuralom, golden_stages, work_dir / "bench_plain")
    assert "operators" not in report
    assert "operators by self time" not in result.stdout
    assert report["day_steps"] == DAY_STEPS
    assert len(report["seconds_per_day_step_per_stage"]) == 2


def test_help_names_the_flag(neuralom):
    result = neuralom("bench", "--help")
    assert result.returncode == 0 and "--profile-ops" in result.stdout
