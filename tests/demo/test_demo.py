"""The embedded demo: generated data + the committed models beat persistence and climatology.

Generates a shortened demo data set (the test year only, 40 days) into the scratch directory, runs
`neuralom simulate` with the committed models of data/demo_models/ from 5 initial conditions for
10 days, and checks that at lead day 10 the model's error is below both baselines' for T0, S0,
SSH and the all-channel nRMSE. Environment: NEURALOM_BIN, NEURALOM_SOURCE_DIR,
NEURALOM_TEST_WORK_DIR (fall back to paths relative to this file).
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("NEURALOM_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN = Path(os.environ.get("NEURALOM_BIN", SOURCE / "build" / "neuralom"))
WORK = Path(os.environ.get("NEURALOM_TEST_WORK_DIR", SOURCE / "build" / "tests" / "work")) / "demo"
MODELS = SOURCE / "data" / "demo_models"
PYTHON = os.environ.get("NEURALOM_PYTHON", sys.executable)


@pytest.fixture(scope="module")
def demo_data():
    if not BIN.exists():
        pytest.skip(f"{BIN} not built")
    for name in ("stage1.pt", "stage2.pt", "atmos.pt"):
        if not (MODELS / name).exists():
            pytest.fail(f"{MODELS / name} missing: the demo models are committed (scripts/train_demo.py)")
    data = WORK / "data"
    subprocess.run([PYTHON, str(SOURCE / "scripts" / "make_demo_data.py"), "--out", str(data),
                    "--years", "2020", "--days", "40"], check=True)
    return data


def run_simulate(data: Path, out: Path):
    cmd = [str(BIN), "simulate", "--config-file", str(SOURCE / "configs" / "demo.yaml"),
           "--data-dir", str(data), "--year", "2020", "--output", str(out), "--overwrite",
           "--ics", "0:25:5", "--prediction-length", "11", "--baselines", "--no-data-hash",
           "--save-fields", "--save-channels", "T0,S0,SSH", "--threads", "1"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {}
    with open(out / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[(row["system"], int(row["lead"]), row["variable"])] = row
    return rows


def test_model_beats_baselines_at_day_10(demo_data):
    rows = run_simulate(demo_data, WORK / "simulate")
    for variable, key in (("T0", "rmse"), ("S0", "rmse"), ("SSH", "rmse"), ("ALL", "nrmse")):
        model = float(rows[("model", 10, variable)][key])
        persistence = float(rows[("persistence", 10, variable)][key])
        climatology = float(rows[("climatology", 10, variable)][key])
        assert model < persistence, f"{variable}: model {key} {model} >= persistence {persistence}"
        assert model < climatology, f"{variable}: model {key} {model} >= climatology {climatology}"
        assert int(rows[("model", 10, variable)]["n_ic"]) == 5


def test_plots_written(demo_data, tmp_path):
    out = WORK / "simulate"
    if not (out / "metrics.csv").exists():
        run_simulate(demo_data, out)
    result = subprocess.run([PYTHON, str(SOURCE / "scripts" / "plot_results.py"), str(out),
                             "--variable", "T0", "--lead", "10", "--out", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "map_T0_lead10.png").stat().st_size > 1000
    assert (tmp_path / "skill_T0.png").stat().st_size > 1000
