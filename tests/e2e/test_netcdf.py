"""`neuralom simulate --format netcdf|zarr` on golden/ocean_small, opened with xarray exactly as a
user would: names, coordinates, dates and units decode; the values are the HDF5 output's anomalies
plus the climatology of each valid day; land is NaN; metrics.nc holds metrics.csv's scores."""

import csv
import json
import shutil
import subprocess

import h5py
import numpy as np
import pytest

from conftest import GOLDEN

xr = pytest.importorskip("xarray")

DATA = GOLDEN / "ocean_small" / "data"
H, W = 32, 64
ICS = [0, 1]
LEADS = 4
# The GLORYS12 levels of the reference's channel names S0, S2, S5, ... S643 (labels are the
# depths truncated to whole metres).
DEPTHS = [0.494, 2.646, 5.078, 7.930, 11.405, 15.810, 21.599, 29.445, 40.344, 55.764, 77.854, 92.326,
          109.729, 130.666, 155.851, 186.126, 222.475, 266.040, 318.127, 380.213, 453.938, 541.089, 643.567]
CF = {  # variable: (first channel, standard_name, units)
    "so": (0, "sea_water_salinity", "1e-3"),
    "uo": (23, "eastward_sea_water_velocity", "m s-1"),
    "vo": (46, "northward_sea_water_velocity", "m s-1"),
    "thetao": (69, "sea_water_potential_temperature", "degrees_Celsius"),
    "zos": (92, "sea_surface_height_above_geoid", "m"),
}
# Absolute values are float32(anomaly + climatology): the sum of the same two numbers, rounded once,
# differs from an independent float64 sum rounded to float32 by at most half an ulp.
RTOL = 2.0 ** -24


def simulate(neuralom, stages, output, *extra):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{stages[0]},{stages[1]}",
                      "--prediction-length", LEADS, "--ics", ",".join(map(str, ICS)), "--output", output,
                      "--threads", 2, "--device", "cpu", *extra)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def hdf5_run(neuralom, golden_stages, work_dir):
    out = work_dir / "netcdf_reference_h5"
    simulate(neuralom, golden_stages, out, "--save-fields", "--baselines")
    with h5py.File(out / "results_simulation.h5", "r") as f:
        return f["ground_truth"][...], f["predicted"][...]


@pytest.fixture(scope="module")
def nc_run(neuralom, golden_stages, work_dir):
    out = work_dir / "netcdf_full"
    simulate(neuralom, golden_stages, out, "--format", "netcdf", "--save-truth", "--baselines")
    return out


@pytest.fixture(scope="module")
def climatology():
    return np.load(DATA / "climate_mean_s_t_ssh.npy")[:, :93, :H, :W]


@pytest.fixture(scope="module")
def ocean():
    with h5py.File(DATA / "land_mask.h5", "r") as f:
        return f["fields"][0, :93, :H, :W] != 0


def absolute(anomalies, climatology):
    """float32(anomaly + climatology of the valid day), [ic, lead, channel, H, W], summed in float64."""
    out = np.empty(anomalies.shape, np.float32)
    for i, ic in enumerate(ICS):
        for lead in range(anomalies.shape[1]):
            out[i, lead] = (anomalies[i, lead].astype(np.float64) + climatology[ic + lead]).astype(np.float32)
    return out


def test_names_coordinates_dates_and_units(nc_run):
    assert sorted(p.name for p in nc_run.iterdir()) == [
        "metrics.csv", "metrics.json", "metrics.nc", "results_simulation.nc", "run.json"]
    with xr.open_dataset(nc_run / "results_simulation.nc") as ds:
        assert dict(ds.sizes) == {"time": 2, "lead": LEADS, "depth": 23, "latitude": H, "longitude": W}
        # Dates decode: day 0 of 2020.h5 is 1 January 2020.
        assert [str(t)[:10] for t in ds.time.values] == ["2020-01-01", "2020-01-02"]
        assert ds.time.attrs["standard_name"] == "forecast_reference_time"
        assert ds.time.encoding["calendar"] == "proleptic_gregorian"
        assert ds.time.encoding["units"].startswith("days since 2020-01-01")
        assert list(ds.lead.values.astype("timedelta64[D]").astype(int)) == [0, 1, 2, 3]
        assert ds.lead.attrs["standard_name"] == "forecast_period"
        assert str(ds.valid_time.values[1, 3])[:10] == "2020-01-05"
        np.testing.assert_allclose(ds.depth.values, DEPTHS)
        assert ds.depth.attrs["positive"] == "down" and ds.depth.attrs["axis"] == "Z"
        assert ds.depth.attrs["units"] == "m"
        np.testing.assert_allclose(ds.latitude.values, -90 + 180 * np.arange(H) / H)
        np.testing.assert_allclose(ds.longitude.values, -180 + 360 * (np.arange(W) + 1) / W)
        assert ds.latitude.attrs["units"] == "degrees_north" and ds.longitude.attrs["units"] == "degrees_east"
        for name, (_, standard_name, units) in CF.items():
            for var in (ds[name], ds["truth_" + name]):
                assert var.dtype == np.float32
                assert var.attrs["standard_name"] == standard_name
                assert var.attrs["units"] == units and var.attrs["long_name"]
                assert var.dims[-2:] == ("latitude", "longitude")
                assert ("depth" in var.dims) == (name != "zos")
        assert ds.attrs["Conventions"] == "CF-1.8"
        assert ds.attrs["neuralom_values"] == "absolute"
        for key in ("title", "source", "history", "neuralom_version", "mode"):
            assert ds.attrs[key], key
        run = json.loads((nc_run / "run.json").read_text())
        assert ds.attrs["stage1_checkpoint_sha256"] == run["stages"][0]["checkpoint_sha256"]
        assert ds.attrs["stage2_checkpoint_sha256"] == run["stages"][1]["checkpoint_sha256"]
        assert len(ds.attrs["stage1_checkpoint_sha256"]) == 64


def test_values_are_hdf5_anomalies_plus_climatology(nc_run, hdf5_run, climatology, ocean):
    truth, pred = hdf5_run
    expected_pred = absolute(pred, climatology)
    expected_truth = absolute(truth, climatology)
    with xr.open_dataset(nc_run / "results_simulation.nc") as ds:
        # The user's way: the surface temperature by depth in metres.
        sst = ds.thetao.sel(depth=0.5, method="nearest").values  # [time, lead, lat, lon]
        ref = expected_pred[:, :, 69]
        land = ~ocean[69]
        assert np.isnan(sst[:, :, land]).all()
        rel = np.abs(sst[:, :, ~land] - ref[:, :, ~land]) / np.abs(ref[:, :, ~land])
        print(f"thetao at 0.494 m vs HDF5 anomaly + climatology: max relative difference {rel.max():.3e} "
              f"(tolerance {RTOL:.3e}); {ref[:, :, ~land].size} ocean values, range "
              f"{ref[:, :, ~land].min():.3f}..{ref[:, :, ~land].max():.3f} degC")
        assert rel.max() <= RTOL
        # Every variable, depth and lead, prediction and truth.
        checked = 0
        for name, (first, _, _) in CF.items():
            for prefix, expected in (("", expected_pred), ("truth_", expected_truth)):
                values = ds[prefix + name].values
                for k in range(23 if name != "zos" else 1):
                    c = first + k
                    got = values[:, :, k] if name != "zos" else values
                    want = expected[:, :, c]
                    sea = ocean[c]
                    assert np.isnan(got[:, :, ~sea]).all(), f"{prefix}{name} level {k}: land is not NaN"
                    np.testing.assert_allclose(got[:, :, sea], want[:, :, sea], rtol=RTOL, atol=0)
                    checked += 1
        assert checked == 2 * 93


def test_truth_is_the_data_itself(nc_run, ocean):
    """Absolute truth = the data file's fields (anomaly + climatology gives the field back)."""
    with h5py.File(DATA / "test" / "2020.h5", "r") as f:
        fields = f["fields"][:, :93, :H, :W]
    with xr.open_dataset(nc_run / "results_simulation.nc") as ds:
        got = ds.truth_thetao.isel(depth=0).values
    for i, ic in enumerate(ICS):
        for lead in range(LEADS):
            sea = ocean[69]
            np.testing.assert_allclose(got[i, lead][sea], fields[ic + lead, 69][sea], rtol=1e-6, atol=1e-6)


def test_ncdump_shows_the_attributes(nc_run):
    if shutil.which("ncdump") is None:
        pytest.skip("ncdump (netcdf-bin) not installed")
    header = subprocess.run(["ncdump", "-h", str(nc_run / "results_simulation.nc")], capture_output=True,
                            text=True, check=True).stdout
    print("\n".join(header.splitlines()[:12]))
    for text in ('thetao:standard_name = "sea_water_potential_temperature"', 'thetao:units = "degrees_Celsius"',
                 "thetao:_FillValue = NaNf", 'time:units = "days since 2020-01-01 00:00:00"',
                 'time:calendar = "proleptic_gregorian"', 'lead:standard_name = "forecast_period"',
                 'depth:positive = "down"', ':Conventions = "CF-1.8"', "float zos(time, lead, latitude, longitude)",
                 "float so(time, lead, depth, latitude, longitude)"):
        assert text in header, text
    storage = subprocess.run(["ncdump", "-hs", str(nc_run / "results_simulation.nc")], capture_output=True,
                             text=True, check=True).stdout
    assert f"thetao:_ChunkSizes = 1, 1, 23, {H}, {W}" in storage  # one (time, lead) field per chunk


def test_metrics_nc_holds_the_csv_scores(nc_run):
    rows = {}
    with open(nc_run / "metrics.csv", newline="") as f:
        for r in csv.DictReader(f):
            rows[(r["system"], int(r["lead"]), r["variable"])] = r
    with xr.open_dataset(nc_run / "metrics.nc") as m:
        assert list(m.system.values) == ["model", "persistence", "climatology"]
        assert list(m.lead.values.astype("timedelta64[D]").astype(int)) == [1, 2, 3]
        np.testing.assert_allclose(m.depth.values, DEPTHS)
        # An RMSE is a temperature difference: K, since degrees_Celsius is an offset scale in UDUNITS.
        assert m.rmse_thetao.attrs["units"] == "K" and m.rmse_so.attrs["units"] == "1e-3"
        assert m.rmse_uo.attrs["units"] == "m s-1" and m.rmse_zos.attrs["units"] == "m"
        assert m.nrmse_thetao.attrs["units"] == "1"
        for system in ("model", "persistence", "climatology"):
            for li, lead in enumerate((1, 2, 3)):
                s = m.sel(system=system).isel(lead=li)
                assert float(s.rmse_thetao.sel(depth=0.5, method="nearest")) == pytest.approx(
                    float(rows[(system, lead, "T0")]["rmse"]), rel=1e-8)
                assert float(s.rmse_uo.isel(depth=22)) == pytest.approx(float(rows[(system, lead, "U643")]["rmse"]),
                                                                       rel=1e-8)
                assert float(s.nrmse_zos) == pytest.approx(float(rows[(system, lead, "SSH")]["nrmse"]), rel=1e-8)
                assert float(s.nrmse_all) == pytest.approx(float(rows[(system, lead, "ALL")]["nrmse"]), rel=1e-8)
                assert int(s.n_ic) == 2
        assert np.isnan(m.acc_so.sel(system="climatology")).all()


def test_subsets_anomalies_and_compression(neuralom, golden_stages, work_dir, hdf5_run, ocean):
    out = work_dir / "netcdf_subset"
    simulate(neuralom, golden_stages, out, "--format", "netcdf", "--anomalies", "--save-channels", "T0,S0,U5,SSH",
             "--save-leads", "0,3", "--compression", 4)
    _, pred = hdf5_run
    with xr.open_dataset(out / "results_simulation.nc") as ds:
        assert sorted(ds.data_vars) == ["so", "thetao", "uo", "zos"]  # no V channel saved: no vo
        np.testing.assert_allclose(ds.depth.values, [0.494, 5.078])  # the saved depths
        assert list(ds.lead.values.astype("timedelta64[D]").astype(int)) == [0, 3]
        assert ds.attrs["neuralom_values"] == "anomalies"
        assert "standard_name" not in ds.thetao.attrs and "anomaly" in ds.thetao.attrs["long_name"]
        # Anomalies are differences: a temperature anomaly is in K, the others keep their units.
        assert ds.thetao.attrs["units"] == "K" and ds.so.attrs["units"] == "1e-3" and ds.zos.attrs["units"] == "m"
        assert np.isnan(ds.thetao.isel(depth=1)).all()  # T5 was not saved
        assert np.isnan(ds.so.isel(depth=1)).all() and np.isnan(ds.uo.isel(depth=0)).all()
        for name, channel, level in (("thetao", 69, 0), ("so", 0, 0), ("uo", 25, 1)):
            got = ds[name].isel(depth=level).values
            want = pred[:, [0, 3], channel]
            sea = ocean[channel]
            np.testing.assert_array_equal(got[:, :, sea], want[:, :, sea])
            assert np.isnan(got[:, :, ~sea]).all()
        assert ds.thetao.encoding["zlib"] and ds.thetao.encoding["complevel"] == 4


def test_zarr_store_opens_with_the_same_names(neuralom, golden_stages, work_dir, nc_run):
    pytest.importorskip("zarr")
    out = work_dir / "zarr_full"
    simulate(neuralom, golden_stages, out, "--format", "zarr", "--save-truth")
    assert (out / "results_simulation.zarr" / ".zmetadata").exists()
    assert not (out / "results_simulation.zarr.partial").exists()
    with xr.open_zarr(out / "results_simulation.zarr") as z, xr.open_dataset(nc_run / "results_simulation.nc") as n:
        assert sorted(z.data_vars) == sorted(n.data_vars)
        assert dict(z.sizes) == dict(n.sizes)
        assert [str(t)[:10] for t in z.time.values] == ["2020-01-01", "2020-01-02"]
        for name in ("thetao", "zos", "truth_uo"):
            assert z[name].attrs["standard_name"] == n[name].attrs["standard_name"]
            assert z[name].attrs["units"] == n[name].attrs["units"]
            np.testing.assert_array_equal(z[name].values, n[name].values)
        assert z.attrs["Conventions"] == "CF-1.8"
        np.testing.assert_array_equal(z.depth.values, n.depth.values)
        assert np.isnan(z.thetao.encoding["_FillValue"])  # from .zarray's "NaN"
    # Every metadata file is strict JSON (no bare NaN token): the Zarr v2 spec's "NaN" string for
    # a fill value, and no NaN copy of it among the attributes.
    def refuse(token):
        raise ValueError(f"bare {token}")
    store = out / "results_simulation.zarr"
    files = sorted(p for p in store.rglob(".z*"))
    assert len(files) > 20
    for path in files:
        json.loads(path.read_text(), parse_constant=refuse)
    thetao = json.loads((store / "thetao" / ".zarray").read_text())
    assert thetao["fill_value"] == "NaN"
    assert "_FillValue" not in json.loads((store / "thetao" / ".zattrs").read_text())


def test_coordinates_from_the_configuration(neuralom, golden_stages, work_dir, tmp_path):
    config = tmp_path / "grid.yaml"
    depths = [float(i) for i in range(23)]
    config.write_text("latitude_start: 87.1875\nlatitude_step: -5.625\nlongitude_start: 0\n"
                      f"depths: [{', '.join(map(str, depths))}]\nformat: netcdf\n")
    out = work_dir / "netcdf_config"
    simulate(neuralom, golden_stages, out, "--config-file", config, "--save-channels", "T0,T2,SSH")
    with xr.open_dataset(out / "results_simulation.nc") as ds:
        np.testing.assert_allclose(ds.latitude.values, 87.1875 - 5.625 * np.arange(H))
        np.testing.assert_allclose(ds.longitude.values, 5.625 * np.arange(W))
        np.testing.assert_allclose(ds.depth.values, [0.0, 1.0])


@pytest.mark.parametrize("args, message", [
    (["--format", "grib"], "format must be hdf5, netcdf or zarr"),
    (["--format", "netcdf", "--depths", "1,2,3"], "3 values given for the 23 depth levels"),
    (["--format", "netcdf", "--latitude-step", "10"], "outside [-90, 90]"),
    (["--format", "netcdf", "--out-variables", ",".join(f"C{i}" for i in range(93))], "has no CF variable"),
])
def test_bad_cf_settings(neuralom, golden_stages, tmp_path, args, message):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 2, "--ics", "0", "--output", tmp_path / "out", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_year_needed_when_the_file_is_not_named_after_it(neuralom, golden_stages, tmp_path):
    renamed = tmp_path / "ocean.h5"
    shutil.copy(DATA / "test" / "2020.h5", renamed)
    args = ["simulate", "--data-dir", DATA, "--test-file", renamed, "--stages",
            f"{golden_stages[0]},{golden_stages[1]}", "--prediction-length", 2, "--ics", "0", "--format", "netcdf",
            "--threads", 2, "--device", "cpu"]
    result = neuralom(*args, "--output", tmp_path / "a")
    assert result.returncode == 2 and "pass --year" in result.stderr, result.stderr
    result = neuralom(*args, "--output", tmp_path / "b", "--year", "2024")
    assert result.returncode == 0, result.stderr
    with xr.open_dataset(tmp_path / "b" / "results_simulation.nc") as ds:
        assert str(ds.time.values[0])[:10] == "2024-01-01"


def test_plot_results_draws_maps_from_netcdf(nc_run, tmp_path):
    pytest.importorskip("matplotlib")
    import os
    import sys
    from conftest import SOURCE_DIR
    result = subprocess.run([os.environ.get("NEURALOM_PYTHON", sys.executable),
                             str(SOURCE_DIR / "scripts" / "plot_results.py"), str(nc_run), "--variable", "T0",
                             "--lead", "3", "--out", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "map_T0_lead3.png").stat().st_size > 1000
    assert (tmp_path / "skill_T0.png").stat().st_size > 1000


def test_forecast_mode_writes_results_forecasting_nc(neuralom, golden_stages, golden_atmos, work_dir, climatology,
                                                     ocean):
    atmos_data = GOLDEN / "ocean_small_forecasting" / "data"
    out = work_dir / "netcdf_forecast"
    result = neuralom("forecast", "--data-dir", DATA, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--atmos", golden_atmos, "--atmos-dir", atmos_data / "test_atmos",
                      "--atmos-mean", atmos_data / "mean_atmos.npy", "--atmos-std", atmos_data / "std_atmos.npy",
                      "--prediction-length", LEADS, "--ics", "0,1", "--output", out, "--threads", 2,
                      "--device", "cpu", "--format", "netcdf", "--save-channels", "T0,SSH")
    assert result.returncode == 0, result.stderr
    with h5py.File(GOLDEN / "ocean_small_forecasting" / "results_forecasting.h5", "r") as f:
        reference = f["predicted"][...]  # the reference implementation's anomalies
    expected = absolute(reference, climatology)
    with xr.open_dataset(out / "results_forecasting.nc") as ds:
        assert ds.attrs["mode"] == "forecast" and "atmosphere_checkpoint_sha256" in ds.attrs
        sst = ds.thetao.sel(depth=0.5, method="nearest").values
        sea = ocean[69]
        # The engine reproduces the reference's forecast to 1e-4 (tests/e2e/test_forecast.py).
        np.testing.assert_allclose(sst[:, :, sea], expected[:, :, 69][:, :, sea], rtol=0, atol=2e-4)
        assert np.isnan(sst[:, :, ~sea]).all()
