"""Input files the reference reads that differ from the golden layout: float16 data and climatology,
statistics with more channels than the data, an atmosphere file with more channels than its model.

Each run is compared with a run on an equivalent float32 / exact-layout input built here with NumPy
following the reference's arithmetic (model-spec.md §1.4, §3.1): the fields must be bit-identical and
the scores equal, so these tests check the semantics, not a tolerance."""

import shutil

import h5py
import numpy as np
import pytest

from conftest import GOLDEN, assert_same_outputs, fields_identical, max_relative_difference

OCEAN_DATA = GOLDEN / "ocean_small" / "data"
ATMOS_DATA = GOLDEN / "ocean_small_forecasting" / "data"
YEAR_FILE = "test/2020.h5"
CLIMATOLOGY = "climate_mean_s_t_ssh.npy"


def simulate(neuralom, stages, data, output):
    result = neuralom("simulate", "--data-dir", data, "--stages", f"{stages[0]},{stages[1]}",
                      "--prediction-length", 4, "--ics", "0,1", "--output", output, "--threads", 2,
                      "--save-fields")
    assert result.returncode == 0, result.stderr
    return result


def forecast(neuralom, stages, atmos, atmos_data, output):
    result = neuralom("forecast", "--data-dir", OCEAN_DATA, "--stages", f"{stages[0]},{stages[1]}",
                      "--atmos", atmos, "--atmos-dir", atmos_data / "test_atmos",
                      "--atmos-mean", atmos_data / "mean_atmos.npy", "--atmos-std", atmos_data / "std_atmos.npy",
                      "--prediction-length", 4, "--ics", "0,1", "--output", output, "--threads", 2,
                      "--save-fields")
    assert result.returncode == 0, result.stderr
    return result


def write_fields(path, array):
    path.unlink(missing_ok=True)
    with h5py.File(path, "w") as f:
        f.create_dataset("fields", data=array)


def copy_of(source, target):
    shutil.copytree(source, target)
    return target


def fits_float16(x, c):
    """The golden data and climatology with every channel that exceeds float16's range (the
    forcing's pressure, ~1e5) divided by 4, so that float16 holds them all as finite values."""
    big = np.nanmax(np.abs(x), axis=(0, 2, 3)) > 6e4
    big |= np.nanmax(np.abs(c), axis=(0, 2, 3)) > 6e4
    scale = np.where(big, 0.25, 1.0).astype(np.float32)[None, :, None, None]
    return x * scale, c * scale


@pytest.fixture(scope="module")
def float16_inputs():
    with h5py.File(OCEAN_DATA / YEAR_FILE, "r") as f:
        x = f["fields"][...]
    x, c = fits_float16(x, np.load(OCEAN_DATA / CLIMATOLOGY))
    x16, c16 = x.astype(np.float16), c.astype(np.float16)
    assert np.isfinite(x16[~np.isnan(x)]).all() and np.isfinite(c16).all()
    return x16, c16


def test_float16_data_promotes_as_numpy(neuralom, golden_stages, float16_inputs, tmp_path):
    """float16 data − float32 climatology is float32 in NumPy: the same run as on float32 data
    holding the float16 values."""
    x16, c16 = float16_inputs
    c32 = c16.astype(np.float32)
    half = copy_of(OCEAN_DATA, tmp_path / "half")
    write_fields(half / YEAR_FILE, x16)
    np.save(half / CLIMATOLOGY, c32)
    single = copy_of(OCEAN_DATA, tmp_path / "single")
    write_fields(single / YEAR_FILE, x16.astype(np.float32))
    np.save(single / CLIMATOLOGY, c32)
    simulate(neuralom, golden_stages, half, tmp_path / "out_half")
    simulate(neuralom, golden_stages, single, tmp_path / "out_single")
    assert_same_outputs(tmp_path / "out_single", tmp_path / "out_half", "float16 data, float32 climatology")
    assert fields_identical(tmp_path / "out_single", tmp_path / "out_half")
    assert max_relative_difference(tmp_path / "out_single", tmp_path / "out_half") == 0.0


def test_float16_data_and_climatology_subtract_in_float16(neuralom, golden_stages, float16_inputs, tmp_path):
    """float16 − float16 is rounded to float16 in NumPy (X − C, model-spec.md §1.4): the same run
    as on float32 data holding NumPy's float16 differences and a climatology of zeros."""
    x16, c16 = float16_inputs
    with np.errstate(invalid="ignore"):
        anomaly16 = x16 - c16
        exact = x16.astype(np.float32) - c16.astype(np.float32)
    ocean = ~np.isnan(exact)
    # The case must tell the two apart: the float16 rounding changes many of these differences.
    assert (anomaly16.astype(np.float32)[ocean] != exact[ocean]).sum() > 1000
    half = copy_of(OCEAN_DATA, tmp_path / "half")
    write_fields(half / YEAR_FILE, x16)
    np.save(half / CLIMATOLOGY, c16)
    assert np.load(half / CLIMATOLOGY).dtype == np.float16
    plan = neuralom("simulate", "--data-dir", half, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                    "--prediction-length", 4, "--ics", "0,1", "--output", tmp_path / "dry", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert "[5, 97, 33, 64] float16" in plan.stdout and "climate_mean_s_t_ssh.npy [5, 97, 33, 64] float16" in plan.stdout
    single = copy_of(OCEAN_DATA, tmp_path / "single")
    write_fields(single / YEAR_FILE, anomaly16.astype(np.float32))
    np.save(single / CLIMATOLOGY, np.zeros(c16.shape, np.float32))
    simulate(neuralom, golden_stages, half, tmp_path / "out_half")
    simulate(neuralom, golden_stages, single, tmp_path / "out_single")
    assert fields_identical(tmp_path / "out_single", tmp_path / "out_half")
    assert max_relative_difference(tmp_path / "out_single", tmp_path / "out_half") == 0.0


def test_statistics_with_more_channels_than_the_data(neuralom, golden_stages, tmp_path):
    """The reference indexes the statistics by channel (mean[:, in_channels]): three more channels,
    one of them with a zero std that is never used, change nothing."""
    data = copy_of(OCEAN_DATA, tmp_path / "data")
    for name, extra in (("mean_s_t_ssh.npy", [1.0, np.nan, 2.0]), ("std_s_t_ssh.npy", [0.0, np.nan, 3.0])):
        stats = np.load(OCEAN_DATA / name)
        np.save(data / name, np.concatenate([stats, np.array(extra).reshape(1, 3, 1, 1)], axis=1))
    result = simulate(neuralom, golden_stages, data, tmp_path / "out")
    assert "hold 100 channels" in result.stderr and "matched by channel number" in result.stderr
    simulate(neuralom, golden_stages, OCEAN_DATA, tmp_path / "baseline")
    assert fields_identical(tmp_path / "baseline", tmp_path / "out")
    assert max_relative_difference(tmp_path / "baseline", tmp_path / "out") == 0.0


def test_statistics_must_cover_the_channels_read(neuralom, golden_stages, tmp_path):
    data = copy_of(OCEAN_DATA, tmp_path / "data")
    np.save(data / "mean_s_t_ssh.npy", np.load(OCEAN_DATA / "mean_s_t_ssh.npy")[:, :96])
    result = neuralom("simulate", "--data-dir", data, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 4, "--ics", "0", "--output", tmp_path / "out")
    assert result.returncode == 2, result.stderr
    assert "mean_s_t_ssh.npy: shape [1, 96, 1, 1] holds 96 channel values, but channel 96 is used" in result.stderr
    assert not (tmp_path / "out").exists()


def read_atmosphere():
    [path] = sorted((ATMOS_DATA / "test_atmos").glob("*.h5"))
    with h5py.File(path, "r") as f:
        return path.name, f["fields"][...]


def test_atmosphere_file_with_more_channels(neuralom, golden_stages, golden_atmos, tmp_path):
    """The reference reads fields[:, in_channels_atmos] (channels 0..68): further channels of the
    file are not read and change nothing."""
    name, a = read_atmosphere()
    wide = copy_of(ATMOS_DATA, tmp_path / "atmos")
    junk = np.full(a[:, :3].shape, 1e30, dtype=a.dtype)
    write_fields(wide / "test_atmos" / name, np.concatenate([a, junk], axis=1))
    result = forecast(neuralom, golden_stages, golden_atmos, wide, tmp_path / "out")
    assert "72 channels: the atmosphere model reads channels 0..68" in result.stderr
    forecast(neuralom, golden_stages, golden_atmos, ATMOS_DATA, tmp_path / "baseline")
    assert fields_identical(tmp_path / "baseline", tmp_path / "out")
    assert max_relative_difference(tmp_path / "baseline", tmp_path / "out") == 0.0


def test_float16_atmosphere_file(neuralom, golden_stages, golden_atmos, tmp_path):
    """(float16 − float64 mean) / float64 std is float64 in NumPy: the same forecast as from a
    float32 file holding the float16 values."""
    name, a = read_atmosphere()
    # Geopotential and pressure exceed float16's range: those channels are stored divided by 64,
    # their statistics too (both runs), so that the normalised states stay those of the golden case.
    big = np.nanmax(np.abs(a), axis=(0, 2, 3)) > 6e4
    scale = np.where(big, 1.0 / 64, 1.0)
    a16 = (a * scale.astype(np.float32)[None, :, None, None]).astype(np.float16)
    assert big.any() and np.isfinite(a16[np.isfinite(a)]).all()
    runs = {}
    for label, array in (("half", a16), ("single", a16.astype(np.float32))):
        data = copy_of(ATMOS_DATA, tmp_path / label)
        write_fields(data / "test_atmos" / name, array)
        for stats in ("mean_atmos.npy", "std_atmos.npy"):
            np.save(data / stats, np.load(ATMOS_DATA / stats) * scale[None, :, None, None])
        runs[label] = tmp_path / f"out_{label}"
        forecast(neuralom, golden_stages, golden_atmos, data, runs[label])
    assert fields_identical(runs["single"], runs["half"])
    assert max_relative_difference(runs["single"], runs["half"]) == 0.0
