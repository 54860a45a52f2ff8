"""`neuralom simulate` on golden/ocean_small: the reference's results_simulation.h5 is reproduced,
batching does not change results, and metrics.csv agrees with an independent NumPy computation."""

import csv
import json
import math

import h5py
import numpy as np
import pytest

from conftest import GOLDEN
from float32_bounds import ROLLOUT, ROUNDING, ulps

DATA = GOLDEN / "ocean_small" / "data"
REFERENCE = GOLDEN / "ocean_small" / "results_simulation.h5"


def simulate(neuralom, stages, output, *extra):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{stages[0]},{stages[1]}",
                      "--prediction-length", 4, "--ics", "0,1", "--output", output, "--threads", 2, *extra)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def batch1(neuralom, golden_stages, work_dir):
    out = work_dir / "simulate_b1"
    simulate(neuralom, golden_stages, out, "--save-fields", "--batch", 1, "--baselines")
    return out


def read_fields(path):
    with h5py.File(path, "r") as f:
        return f["ground_truth"][...], f["predicted"][...]


def test_reproduces_reference_results(batch1):
    truth, pred = read_fields(batch1 / "results_simulation.h5")
    ref_truth, ref_pred = read_fields(REFERENCE)
    assert truth.shape == ref_truth.shape == (2, 4, 93, 32, 64)
    assert pred.dtype == np.float32
    err_truth = float(np.abs(truth - ref_truth).max())
    err_pred = float(np.abs(pred - ref_pred).max())
    print(f"max abs difference vs reference: ground_truth {err_truth:.3e}, predicted {err_pred:.3e}")
    # float32_bounds.py: the truth is only normalised and de-normalised; predictions are a
    # 4-day rollout of both stages.
    assert err_truth <= ulps(ref_truth, ROUNDING)
    assert err_pred <= ulps(ref_pred, ROLLOUT)


def test_outputs_complete_and_described(batch1):
    names = sorted(p.name for p in batch1.iterdir())
    assert names == ["metrics.csv", "metrics.json", "results_simulation.h5", "run.json"]
    run = json.loads((batch1 / "run.json").read_text())
    assert run["settings"]["ics"] == [0, 1]
    assert run["settings"]["prediction_length"] == 4
    assert len(run["stages"]) == 2 and run["stages"][0]["in_channels"] == 101
    digests = run["sha256"]
    assert all(len(v) == 64 for v in digests.values()), digests
    assert run["timings"]["day_steps"] == 6  # 2 ICs x 3 forecast days at batch 1


def test_results_datasets_grow_along_initial_conditions_as_the_reference(batch1, tmp_path):
    """The reference creates ground_truth/predicted with maxshape (None, P, 93, H, W) and appends
    to them with resize(): the same works on neuralom's file, and its values stay."""
    import shutil
    copy = tmp_path / "results_simulation.h5"
    shutil.copy(batch1 / "results_simulation.h5", copy)
    with h5py.File(copy, "r+") as f:
        for name in ("ground_truth", "predicted"):
            assert f[name].maxshape == (None, 4, 93, 32, 64) and f[name].shape == (2, 4, 93, 32, 64)
            before = f[name][...]
            f[name].resize(3, axis=0)
            f[name][2] = before[0]
            np.testing.assert_array_equal(f[name][:2], before)
            np.testing.assert_array_equal(f[name][2], before[0])


def test_batch_two_equals_batch_one(neuralom, golden_stages, work_dir, batch1):
    out = work_dir / "simulate_b2"
    simulate(neuralom, golden_stages, out, "--save-fields", "--batch", 2)
    _, pred1 = read_fields(batch1 / "results_simulation.h5")
    _, pred2 = read_fields(out / "results_simulation.h5")
    diff = float(np.abs(pred1 - pred2).max())
    print(f"max abs difference batch 2 vs batch 1: {diff:.3e}")
    assert diff == 0.0  # every IC's arithmetic is the same in a batch: bit-identical


def read_metrics(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[(r["system"], int(r["lead"]), r["variable"])] = r
    return rows


def independent_scores(truth, pred, mask, std):
    """RMSE, ACC per [lead, channel] as the issue defines them, in float64."""
    h = truth.shape[-2]
    lat = -90.0 + 180.0 * np.arange(h) / h
    w = np.cos(np.deg2rad(lat))[None, :, None] * mask  # [C, H, W]
    p = pred.astype(np.float64)
    t = truth.astype(np.float64)
    sw = w.sum(axis=(-2, -1))
    mse = ((p - t) ** 2 * w).sum(axis=(-2, -1)) / sw            # [N, L, C]
    acc = (p * t * w).sum(axis=(-2, -1)) / np.sqrt((p * p * w).sum(axis=(-2, -1)) * (t * t * w).sum(axis=(-2, -1)))
    return np.sqrt(mse.mean(axis=0)), acc.mean(axis=0), np.sqrt(mse.mean(axis=0)) / std


def test_metrics_match_independent_computation(batch1):
    truth, pred = read_fields(batch1 / "results_simulation.h5")
    with h5py.File(DATA / "land_mask.h5", "r") as f:
        mask = (f["fields"][0, 0:93, 0:32, :] != 0).astype(np.float64)
    std = np.load(DATA / "std_s_t_ssh.npy").reshape(-1)[0:93]
    rmse, acc, nrmse = independent_scores(truth, pred, mask, std)
    rows = read_metrics(batch1 / "metrics.csv")
    names = json.loads((batch1 / "run.json").read_text())["settings"]["out_variables"]
    assert names[0] == "S0" and names[69] == "T0" and names[92] == "SSH"
    checked = 0
    for lead in (1, 2, 3):
        for c, name in enumerate(names):
            r = rows[("model", lead, name)]
            assert int(r["channel"]) == c and int(r["n_ic"]) == 2
            assert float(r["rmse"]) == pytest.approx(rmse[lead, c], rel=1e-5, abs=1e-9)
            assert float(r["nrmse"]) == pytest.approx(nrmse[lead, c], rel=1e-5, abs=1e-9)
            assert float(r["acc"]) == pytest.approx(acc[lead, c], rel=1e-5, abs=1e-7)
            checked += 1
        all_row = rows[("model", lead, "ALL")]
        assert float(all_row["nrmse"]) == pytest.approx(nrmse[lead].mean(), rel=1e-5)
        assert float(all_row["acc"]) == pytest.approx(acc[lead].mean(), rel=1e-5)
    assert checked == 3 * 93


def test_all_land_variable_is_left_out_of_the_means(neuralom, golden_stages, data_copy, tmp_path):
    """A variable without one ocean point (a regional grid, a deep level) scores n/a, and the ALL
    rows average over the others instead of turning n/a themselves."""
    with h5py.File(data_copy / "land_mask.h5", "r+") as f:
        f["fields"][0, 22] = 0  # S643, the deepest salinity level, all land
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", data_copy, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 3, "--ics", 0, "--output", out, "--threads", 2, "--save-fields")
    assert result.returncode == 0, result.stderr
    assert "no ocean point for S643" in result.stderr
    truth, pred = read_fields(out / "results_simulation.h5")
    with h5py.File(data_copy / "land_mask.h5", "r") as f:
        mask = (f["fields"][0, 0:93, 0:32, :] != 0).astype(np.float64)
    std = np.load(data_copy / "std_s_t_ssh.npy").reshape(-1)[0:93]
    with np.errstate(invalid="ignore"):
        _, acc, nrmse = independent_scores(truth, pred, mask, std)
    scored = np.arange(93) != 22
    metrics = json.loads((out / "metrics.json").read_text())["systems"]["model"]
    assert metrics["unscored_variables"] == ["S643"]
    rows = read_metrics(out / "metrics.csv")
    for row, lead in enumerate((1, 2)):
        assert metrics["nrmse"][row][22] is None and rows[("model", lead, "S643")]["nrmse"] == "nan"
        assert np.isfinite(nrmse[lead, scored]).all()
        assert metrics["mean_nrmse"][row] == pytest.approx(nrmse[lead, scored].mean(), rel=1e-5)
        assert metrics["mean_acc"][row] == pytest.approx(acc[lead, scored].mean(), rel=1e-5)
        assert float(rows[("model", lead, "ALL")]["nrmse"]) == pytest.approx(nrmse[lead, scored].mean(), rel=1e-5)


def test_baselines_scored(batch1):
    truth, _ = read_fields(batch1 / "results_simulation.h5")
    with h5py.File(DATA / "land_mask.h5", "r") as f:
        mask = (f["fields"][0, 0:93, 0:32, :] != 0).astype(np.float64)
    std = np.load(DATA / "std_s_t_ssh.npy").reshape(-1)[0:93]
    persistence = np.repeat(truth[:, :1], truth.shape[1], axis=1)
    rmse, acc, _ = independent_scores(truth, persistence, mask, std)
    rows = read_metrics(batch1 / "metrics.csv")
    for lead in (1, 3):
        assert float(rows[("persistence", lead, "T0")]["rmse"]) == pytest.approx(rmse[lead, 69], rel=1e-5)
        assert float(rows[("persistence", lead, "SSH")]["acc"]) == pytest.approx(acc[lead, 92], rel=1e-5)
    # Climatology = zero anomaly: RMSE is the weighted RMS of the truth and ACC is undefined.
    zero_rmse, _, _ = independent_scores(truth, np.zeros_like(truth), mask, std)
    assert float(rows[("climatology", 2, "S0")]["rmse"]) == pytest.approx(zero_rmse[2, 0], rel=1e-5)
    assert math.isnan(float(rows[("climatology", 2, "S0")]["acc"]))


def test_subset_of_channels_and_leads(neuralom, golden_stages, work_dir, batch1):
    out = work_dir / "simulate_subset"
    simulate(neuralom, golden_stages, out, "--save-fields", "--save-channels", "T0,S0,92", "--save-leads", "0,3",
             "--compression", 4)
    truth, pred = read_fields(out / "results_simulation.h5")
    full_truth, full_pred = read_fields(batch1 / "results_simulation.h5")
    assert pred.shape == (2, 2, 3, 32, 64)
    channels, leads = [0, 69, 92], [0, 3]  # saved in ascending channel order
    np.testing.assert_array_equal(pred, full_pred[:, leads][:, :, channels])
    np.testing.assert_array_equal(truth, full_truth[:, leads][:, :, channels])
    with h5py.File(out / "results_simulation.h5", "r") as f:
        assert list(f["predicted"].attrs["leads"]) == leads
        assert list(f["predicted"].attrs["channels"]) == channels


def test_summary_and_progress(neuralom, golden_stages, work_dir):
    out = work_dir / "simulate_summary"
    result = simulate(neuralom, golden_stages, out)
    assert "T0 RMSE" in result.stdout and "ALL nRMSE" in result.stdout
    assert "days/s" in result.stderr and "ETA" in result.stderr
    assert not (out / "results_simulation.h5").exists()  # fields only with --save-fields


def test_dry_run_validates_without_writing(neuralom, golden_stages, work_dir):
    out = work_dir / "simulate_dry"
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 4, "--ics", "0:2", "--output", out, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "2020.h5" in result.stdout and "stage 2" in result.stdout
    assert not out.exists()  # a dry run creates nothing
