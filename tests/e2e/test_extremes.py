"""`neuralom simulate --extremes` on golden/ocean_small: extremes.csv agrees with an independent
NumPy computation from the HDF5 fields of the same run — thresholds (numpy.quantile of the truth
over the ocean points of every verified field), contingency counts per lead, CSI and SEDI — for the
model and the persistence and climatology baselines; threshold files are honoured."""

import csv
import json
import math

import h5py
import numpy as np
import pytest

from conftest import GOLDEN

DATA = GOLDEN / "ocean_small" / "data"
H = 32
NAMES = {"S0": 0, "U0": 23, "V0": 46, "T0": 69, "SSH": 92}


def simulate(neuralom, stages, output, *extra):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{stages[0]},{stages[1]}",
                      "--prediction-length", 4, "--ics", "0,1", "--output", output, "--threads", 2,
                      "--device", "cpu", "--save-fields", "--baselines", *extra)
    assert result.returncode == 0, result.stderr
    return result


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_fields(path):
    with h5py.File(path / "results_simulation.h5", "r") as f:
        return f["ground_truth"][...], f["predicted"][...]


@pytest.fixture(scope="module")
def ocean():
    with h5py.File(DATA / "land_mask.h5", "r") as f:
        return f["fields"][0, :93, :H, :] != 0


@pytest.fixture(scope="module")
def default_run(neuralom, golden_stages, work_dir):
    out = work_dir / "extremes_default"
    simulate(neuralom, golden_stages, out, "--extremes")
    return out


def sedi(h, f):
    if not (0 < h < 1 and 0 < f < 1):
        return math.nan
    lf, lh, l1f, l1h = math.log(f), math.log(h), math.log(1 - f), math.log(1 - h)
    return (lf - lh - l1f + l1h) / (lf + lh + l1f + l1h)


def independent(truth, forecasts, ocean, variable, tails, q, thresholds=None):
    """Thresholds and per-lead contingency tables, computed directly from the fields file."""
    c = NAMES[variable]
    sea = ocean[c]
    t = truth[:, :, c]  # [ic, lead, H, W] float32
    if thresholds is None:
        sample = t[:, 1:][:, :, sea].astype(np.float64).ravel()  # every verified field, ocean points
        upper = np.quantile(sample, q)
        lower = np.quantile(sample, 1 - q) if tails == "both" else None
    else:
        lower, upper = thresholds
    def events(x):
        x = x.astype(np.float64)
        e = x > upper
        if tails == "both":
            e |= x < lower
        return e
    tables = {}
    for lead in range(1, t.shape[1]):
        obs = events(t[:, lead])[:, sea]
        fc = events(forecasts[:, lead, c])[:, sea]
        tables[lead] = (int((obs & fc).sum()), int((obs & ~fc).sum()), int((~obs & fc).sum()),
                        int((~obs & ~fc).sum()))
    return lower, upper, tables


def check_rows(rows, system, variable, q, lower, upper, tables):
    checked = 0
    for r in rows:
        if r["system"] != system or r["variable"] != variable or not math.isclose(float(r["quantile"]), q):
            continue
        lead = int(r["lead"])
        hits, misses, false_alarms, negatives = tables[lead]
        assert float(r["upper_threshold"]) == pytest.approx(upper, rel=1e-12, abs=1e-15)
        if lower is None:
            assert r["lower_threshold"] == ""
        else:
            assert float(r["lower_threshold"]) == pytest.approx(lower, rel=1e-12, abs=1e-15)
        assert (int(r["hits"]), int(r["misses"]), int(r["false_alarms"]), int(r["correct_negatives"])) == \
            tables[lead], f"{system} {variable} q={q} lead {lead}"
        csi = hits / (hits + misses + false_alarms) if hits + misses + false_alarms else math.nan
        h = hits / (hits + misses) if hits + misses else math.nan
        f = false_alarms / (false_alarms + negatives) if false_alarms + negatives else math.nan
        for key, want in (("csi", csi), ("sedi", sedi(h, f))):
            got = float(r[key])
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-12), (key, r)
        assert int(r["n_ic"]) == 2
        checked += 1
    assert checked == 3, (system, variable, q)


def test_extremes_match_independent_numpy(default_run, ocean):
    truth, pred = read_fields(default_run)
    persistence = np.repeat(truth[:, :1], truth.shape[1], axis=1)
    climatology = np.zeros_like(truth)
    rows = read_rows(default_run / "extremes.csv")
    assert len(rows) == 3 * 3 * 3 * 3  # systems x leads x variables x quantiles
    events_seen = 0
    for variable, tails in (("U0", "both"), ("V0", "both"), ("T0", "upper")):
        for q in (0.9, 0.95, 0.99):
            for system, forecasts in (("model", pred), ("persistence", persistence), ("climatology", climatology)):
                lower, upper, tables = independent(truth, forecasts, ocean, variable, tails, q)
                check_rows(rows, system, variable, q, lower, upper, tables)
                events_seen += sum(t[0] + t[1] for t in tables.values())
                if system == "persistence":
                    print(f"{variable} q={q}: thresholds {lower} / {upper}, persistence tables {tables}")
    assert events_seen > 0
    # The thresholds give the base rate the quantile promises (no ties in this data).
    lower, upper, tables = independent(truth, pred, ocean, "U0", "both", 0.9)
    observed = sum(t[0] + t[1] for t in tables.values())
    total = sum(sum(t) for t in tables.values())
    assert observed / total == pytest.approx(0.2, abs=0.01)


def test_extremes_json_and_run_listing(default_run):
    doc = json.loads((default_run / "extremes.json").read_text())
    assert list(doc["systems"]) == ["model", "persistence", "climatology"]
    assert [v["name"] for v in doc["variables"]] == ["U0", "V0", "T0"]
    assert [v["tails"] for v in doc["variables"]] == ["both", "both", "upper"]
    assert doc["quantiles"] == [0.9, 0.95, 0.99]
    assert "numpy.quantile" in doc["threshold_source"]
    rows = read_rows(default_run / "extremes.csv")
    model = doc["systems"]["model"]
    r = next(r for r in rows if r["system"] == "model" and r["lead"] == "2" and r["variable"] == "V0"
             and r["quantile"] == "0.95")
    assert model["hits"][1][1][1] == int(r["hits"]) and model["misses"][1][1][1] == int(r["misses"])
    run = json.loads((default_run / "run.json").read_text())
    assert any(p.endswith("extremes.csv") for p in run["outputs"])


def test_threshold_file_is_honoured(neuralom, golden_stages, work_dir, default_run, ocean, tmp_path):
    # An earlier run's extremes.csv is a threshold file: the same thresholds, the same counts.
    out = work_dir / "extremes_reuse"
    simulate(neuralom, golden_stages, out, "--extreme-thresholds", default_run / "extremes.csv")
    first = read_rows(default_run / "extremes.csv")
    again = read_rows(out / "extremes.csv")
    keys = ("hits", "misses", "false_alarms", "correct_negatives", "upper_threshold", "lower_threshold")
    assert [[r[k] for k in keys] for r in first] == [[r[k] for k in keys] for r in again]
    # A hand-written file with thresholds of our choosing.
    thresholds = tmp_path / "thresholds.csv"
    thresholds.write_text("variable,quantile,lower_threshold,upper_threshold\nSSH,0.8,-0.5,0.4\nT0,0.8,,0.3\n")
    out = work_dir / "extremes_file"
    simulate(neuralom, golden_stages, out, "--extreme-thresholds", thresholds, "--extreme-variables",
             "SSH:both,T0:upper", "--extreme-quantiles", "0.8")
    truth, pred = read_fields(out)
    rows = read_rows(out / "extremes.csv")
    for variable, tails, limits in (("SSH", "both", (-0.5, 0.4)), ("T0", "upper", (None, 0.3))):
        lower, upper, tables = independent(truth, pred, ocean, variable, tails, 0.8, thresholds=limits)
        check_rows(rows, "model", variable, 0.8, lower, upper, tables)


@pytest.mark.parametrize("args, message", [
    (["--extreme-quantiles", "0.3"], "strictly between 0.5 and 1"),
    (["--extreme-variables", "X9"], "'X9' is not an output variable"),
    (["--extreme-variables", "U0:lower"], "'both' or 'upper'"),
    (["--extreme-thresholds", "/nonexistent/thresholds.csv"], "cannot open the threshold file"),
])
def test_bad_extreme_settings(neuralom, golden_stages, tmp_path, args, message):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 2, "--ics", "0", "--output", tmp_path / "out", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_threshold_file_missing_a_quantile(neuralom, golden_stages, tmp_path):
    thresholds = tmp_path / "t.csv"
    thresholds.write_text("variable,quantile,upper_threshold\nT0,0.9,1.0\n")
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{golden_stages[0]},{golden_stages[1]}",
                      "--prediction-length", 2, "--ics", "0", "--output", tmp_path / "out",
                      "--extreme-thresholds", thresholds, "--extreme-variables", "T0:upper")
    assert result.returncode == 2
    assert "no thresholds for T0 at quantile 0.95" in result.stderr
