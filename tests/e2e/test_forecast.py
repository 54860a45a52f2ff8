"""`neuralom forecast` on golden/ocean_small_forecasting: the atmosphere model drives the ocean and
the reference's results_forecasting.h5 is reproduced; bad atmosphere inputs are rejected."""

import shutil

import h5py
import numpy as np
import pytest

from conftest import GOLDEN
from float32_bounds import ROLLOUT, ROUNDING, ulps

OCEAN_DATA = GOLDEN / "ocean_small" / "data"
ATMOS_DATA = GOLDEN / "ocean_small_forecasting" / "data"
REFERENCE = GOLDEN / "ocean_small_forecasting" / "results_forecasting.h5"


def forecast(neuralom, stages, atmos, output, *extra, atmos_data=ATMOS_DATA):
    return neuralom("forecast", "--data-dir", OCEAN_DATA, "--stages", f"{stages[0]},{stages[1]}",
                    "--atmos", atmos, "--atmos-dir", atmos_data / "test_atmos",
                    "--atmos-mean", atmos_data / "mean_atmos.npy", "--atmos-std", atmos_data / "std_atmos.npy",
                    "--prediction-length", 4, "--ics", "0,1", "--output", output, "--threads", 2, *extra)


def read_fields(path):
    with h5py.File(path, "r") as f:
        return f["ground_truth"][...], f["predicted"][...]


@pytest.mark.parametrize("batch", [1, 2])
def test_reproduces_reference_results(neuralom, golden_stages, golden_atmos, work_dir, batch):
    out = work_dir / f"forecast_b{batch}"
    result = forecast(neuralom, golden_stages, golden_atmos, out, "--save-fields", "--batch", batch)
    assert result.returncode == 0, result.stderr
    truth, pred = read_fields(out / "results_forecasting.h5")
    ref_truth, ref_pred = read_fields(REFERENCE)
    assert pred.shape == ref_pred.shape == (2, 4, 93, 32, 64)
    err_truth = float(np.abs(truth - ref_truth).max())
    err_pred = float(np.abs(pred - ref_pred).max())
    print(f"batch {batch}: max abs difference vs reference: ground_truth {err_truth:.3e}, predicted {err_pred:.3e}")
    assert err_truth <= ulps(ref_truth, ROUNDING)
    assert err_pred <= ulps(ref_pred, ROLLOUT)
    assert (out / "metrics.csv").exists() and (out / "run.json").exists()


@pytest.fixture()
def atmos_copy(tmp_path):
    target = tmp_path / "atmos"
    shutil.copytree(ATMOS_DATA, target)
    return target


def rewrite(path, array):
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset("fields", data=array)


def assert_rejected(result, fragments):
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    for fragment in fragments:
        assert fragment in result.stderr, f"'{fragment}' not in: {result.stderr}"


def test_missing_atmosphere_file(neuralom, golden_stages, golden_atmos, atmos_copy, tmp_path):
    (atmos_copy / "test_atmos" / "2020.h5").unlink()
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", atmos_data=atmos_copy)
    assert_rejected(result, ["atmosphere data file", "test_atmos"])


def test_atmosphere_file_follows_the_ocean_file_else_the_first_by_name(neuralom, golden_stages, golden_atmos,
                                                                      atmos_copy, tmp_path):
    """Without --year or --atmos-file the atmosphere file is the one named as the ocean file, and
    where there is none the first .h5 by name, as the reference takes it (not a refusal)."""
    directory = atmos_copy / "test_atmos"
    (directory / "2020.h5").rename(directory / "era5_2020.h5")
    shutil.copy(directory / "era5_2020.h5", directory / "zz_other.h5")
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "first", "--dry-run", atmos_data=atmos_copy)
    assert result.returncode == 0, result.stderr
    assert "using the first in" in result.stderr and "era5_2020.h5" in result.stderr
    assert f"{directory / 'era5_2020.h5'}" in result.stdout
    # Named as the ocean file (2020.h5): that one, although another comes first by name.
    shutil.copy(directory / "era5_2020.h5", directory / "2020.h5")
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "same", "--dry-run", atmos_data=atmos_copy)
    assert result.returncode == 0, result.stderr
    assert f"{directory / '2020.h5'}" in result.stdout and "using the first in" not in result.stderr


def test_missing_atmosphere_stats(neuralom, golden_stages, golden_atmos, atmos_copy, tmp_path):
    (atmos_copy / "std_atmos.npy").unlink()
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", atmos_data=atmos_copy)
    assert_rejected(result, ["std_atmos.npy"])


def test_atmosphere_stats_of_wrong_shape(neuralom, golden_stages, golden_atmos, atmos_copy, tmp_path):
    np.save(atmos_copy / "mean_atmos.npy", np.zeros((1, 68, 1, 1)))
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", atmos_data=atmos_copy)
    assert_rejected(result, ["mean_atmos.npy", "69"])


def test_atmosphere_file_of_wrong_shape(neuralom, golden_stages, golden_atmos, atmos_copy, tmp_path):
    path = atmos_copy / "test_atmos" / "2020.h5"
    with h5py.File(path, "r") as f:
        x = f["fields"][...]
    rewrite(path, x[:, :60])
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", atmos_data=atmos_copy)
    assert_rejected(result, ["2020.h5", "60 channels", "69"])


def test_too_few_atmosphere_snapshots(neuralom, golden_stages, golden_atmos, atmos_copy, tmp_path):
    path = atmos_copy / "test_atmos" / "2020.h5"
    with h5py.File(path, "r") as f:
        x = f["fields"][...]
    rewrite(path, x[:5])  # snapshots 2 (IC 0) only; IC 1 needs index 6
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", atmos_data=atmos_copy)
    assert_rejected(result, ["initial condition 1", "snapshot 6", "5 time steps"])


def test_infinite_atmosphere_input_is_named_and_warn_runs_on(neuralom, golden_stages, golden_atmos, atmos_copy,
                                                              tmp_path):
    """An Inf in the atmosphere file at an IC's snapshot is reported as that input (file, time
    index, channel), exit 2; with --on-nonfinite warn the run goes on, as the reference would,
    and writes what the model makes of it."""
    path = atmos_copy / "test_atmos" / "2020.h5"
    with h5py.File(path, "r+") as f:
        f["fields"][2 + 4 * 1, 65, 5, 5] = np.inf  # IC 1's snapshot (time offset 2, 4 per day)
    refused = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "refused", atmos_data=atmos_copy)
    assert_rejected(refused, ["the atmosphere's initial state of IC 1", "2020.h5:/fields, time 6",
                              "1 in channel 65", "--on-nonfinite warn"])
    assert "atmosphere model output" not in refused.stderr
    out = tmp_path / "warned"
    warned = forecast(neuralom, golden_stages, golden_atmos, out, "--on-nonfinite", "warn", "--save-fields",
                      atmos_data=atmos_copy)
    assert warned.returncode == 0, warned.stderr
    assert "the atmosphere's initial state of IC 1" in warned.stderr
    assert "atmosphere model output (ocean step 1, sub-step 1) contains non-finite values" in warned.stderr
    _, pred = read_fields(out / "results_forecasting.h5")
    _, ref_pred = read_fields(REFERENCE)
    # IC 0 never saw the Inf: the reference's values; IC 1's forecast is not finite.
    assert np.abs(pred[0] - ref_pred[0]).max() <= ulps(ref_pred[0], ROLLOUT)
    assert not np.isfinite(pred[1, 1:]).all()


def test_stage_given_as_atmosphere(neuralom, golden_stages, tmp_path):
    result = forecast(neuralom, golden_stages, golden_stages[1], tmp_path / "out")
    assert_rejected(result, [str(golden_stages[1]), "atmosphere"])


def test_atmosphere_forcing_channels_must_match_stage1(neuralom, golden_stages, golden_atmos, tmp_path):
    result = forecast(neuralom, golden_stages, golden_atmos, tmp_path / "out", "--atmos-forcing-channels", "65:68")
    assert_rejected(result, ["forcing channels", "stage 1 takes 4"])
