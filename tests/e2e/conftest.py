"""Shared fixtures of the end-to-end tests: the neuralom binary, the golden fixtures and the stage
models exported from the golden checkpoints (once per test session)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("NEURALOM_SOURCE_DIR", HERE.parent.parent))
DATA_DIR = Path(os.environ.get("NEURALOM_TEST_DATA_DIR", SOURCE_DIR / "tests" / "data"))
GOLDEN = DATA_DIR / "golden"
# The golden cases' configuration; their graph is the portable mesh arithmetic's (the machine that
# made them had a BLAS whose sdot equals the plain formula), see tests/python/exporter_testlib.py.
SMALL = ["--input-res", "32", "64", "--mesh-level", "3", "--hidden-dim", "32", "--processor-layers", "4",
         "--mesh-arithmetic", "portable"]
sys.path.insert(0, str(HERE.parent))  # tests/float32_bounds.py


def _binary() -> Path:
    path = Path(os.environ.get("NEURALOM_BIN", SOURCE_DIR / "build" / "neuralom"))
    if not path.exists():
        pytest.exit(f"neuralom binary not found at {path}; build first or set NEURALOM_BIN", returncode=2)
    return path


@pytest.fixture(scope="session")
def neuralom():
    """Runs `neuralom ARGS...` and returns the CompletedProcess (never raises on failure)."""
    binary = _binary()

    # NEURALOM_TEST_DEVICE (scripts/gpu_check.sh: cuda) runs the rollouts on that device, unless a
    # test names its own, and NEURALOM_TEST_RUN_FLAGS adds flags to them (gpu_check.sh:
    # --deterministic, which the bit-for-bit comparisons need on a GPU); other subcommands take neither.
    device = os.environ.get("NEURALOM_TEST_DEVICE", "")
    run_flags = os.environ.get("NEURALOM_TEST_RUN_FLAGS", "").split()

    def run(*args, timeout=600):
        args = [str(a) for a in args]
        if args and args[0] in ("simulate", "forecast", "bench"):
            if device and "--device" not in args:
                args += ["--device", device]
            args += run_flags
        return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout)

    return run


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e")


def export(kind: str, checkpoint: Path, out: Path) -> Path:
    """Exports a golden checkpoint with the small golden configuration."""
    script = SOURCE_DIR / "scripts" / "export_torchscript.py"
    python = os.environ.get("NEURALOM_PYTHON", sys.executable)
    result = subprocess.run(
        [python, str(script), "--model", kind, "--checkpoint", str(checkpoint), "--out", str(out), *SMALL],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"export of {checkpoint} failed:\n{result.stderr}"
    return out


def golden_rollout(neuralom, stages, output, *extra):
    """`neuralom simulate` of golden/ocean_small with `stages` (ICs 0 and 1, 3 days, fields
    saved); asserts success and returns the CompletedProcess."""
    result = neuralom("simulate", "--data-dir", GOLDEN / "ocean_small" / "data", "--stages",
                      f"{stages[0]},{stages[1]}", "--prediction-length", 4, "--ics", "0,1", "--output", output,
                      "--threads", 2, "--save-fields", *extra)
    assert result.returncode == 0, result.stderr
    return result


def predicted_fields(output: Path):
    """The `predicted` array of a simulate run's results_simulation.h5."""
    import h5py
    with h5py.File(output / "results_simulation.h5", "r") as f:
        return f["predicted"][...]


_LEGACY_EXPORT = """
import sys
sys.path.insert(0, sys.argv[1])
from neuralom_export import network
# An archive as exported before the exporter had these methods.
for name in sys.argv[2].split(","):
    delattr(network.GraphForecastModel, name)
from neuralom_export.cli import main
sys.exit(main(sys.argv[3:]))
"""


def export_legacy_stages(directory: Path, *missing: str):
    """(stage1.pt, stage2.pt) from golden/ocean_small's checkpoints, exported as by an exporter
    without the named methods of the network; checks that the archives' code lacks them."""
    import zipfile
    python = os.environ.get("NEURALOM_PYTHON", sys.executable)
    directory.mkdir(parents=True, exist_ok=True)
    stages = []
    for k in (1, 2):
        out = directory / f"stage{k}.pt"
        result = subprocess.run(
            [python, "-c", _LEGACY_EXPORT, str(SOURCE_DIR / "scripts"), ",".join(missing), "--model", f"stage{k}",
             "--checkpoint", str(GOLDEN / "ocean_small" / f"stage{k}_best_ckpt.tar"), "--out", str(out), *SMALL],
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        with zipfile.ZipFile(out) as archive:
            code = [archive.read(n).decode() for n in archive.namelist() if n.endswith(".py")]
        assert code and not any(name in text for text in code for name in missing)
        stages.append(out)
    return tuple(stages)


@pytest.fixture(scope="session")
def golden_stages(work_dir):
    """(stage1.pt, stage2.pt) exported from golden/ocean_small's reference checkpoints."""
    models = work_dir / "models"
    models.mkdir(exist_ok=True)
    s1 = export("stage1", GOLDEN / "ocean_small" / "stage1_best_ckpt.tar", models / "stage1.pt")
    s2 = export("stage2", GOLDEN / "ocean_small" / "stage2_best_ckpt.tar", models / "stage2.pt")
    return s1, s2


@pytest.fixture(scope="session")
def golden_atmos(work_dir):
    models = work_dir / "models"
    models.mkdir(exist_ok=True)
    return export("atmos", GOLDEN / "ocean_small_forecasting" / "atmos_best_ckpt.tar", models / "atmos.pt")


@pytest.fixture()
def data_copy(tmp_path):
    """A writable copy of golden/ocean_small/data, for tests that damage it."""
    target = tmp_path / "data"
    shutil.copytree(GOLDEN / "ocean_small" / "data", target)
    return target


# --- comparing two runs' outputs (shards, MPI, resume) ------------------------------------------

def read_fields(directory: Path):
    """Every array of the run's fields file, by name: ground_truth/predicted of results_*.h5, or the
    variables of results_*.nc (NaN on land kept)."""
    for path in sorted(directory.glob("results_*.h5")):
        import h5py
        with h5py.File(path, "r") as f:
            return {name: f[name][...] for name in ("ground_truth", "predicted")}
    for path in sorted(directory.glob("results_*.nc")):
        import netCDF4
        with netCDF4.Dataset(path) as f:
            f.set_auto_mask(False)
            return {name: f[name][...] for name in f.variables}
    raise AssertionError(f"no fields file in {directory}: {sorted(p.name for p in directory.iterdir())}")


def fields_identical(a: Path, b: Path) -> bool:
    fa, fb = read_fields(a), read_fields(b)
    assert sorted(fa) == sorted(fb)
    import numpy as np
    return all(fa[k].shape == fb[k].shape and np.array_equal(fa[k], fb[k], equal_nan=True) for k in fa)


def max_relative_difference(a: Path, b: Path, names=("metrics.csv", "extremes.csv")) -> float:
    """The largest relative difference between the numbers of two runs' CSV outputs; non-numbers must
    be equal, NaN equals NaN."""
    import csv
    import math
    worst = 0.0
    for name in names:
        if not (a / name).exists():
            assert not (b / name).exists(), name
            continue
        with open(a / name, newline="") as fa, open(b / name, newline="") as fb:
            rows_a, rows_b = list(csv.DictReader(fa)), list(csv.DictReader(fb))
        assert len(rows_a) == len(rows_b) > 0, name
        for ra, rb in zip(rows_a, rows_b):
            assert ra.keys() == rb.keys()
            for key in ra:
                try:
                    x, y = float(ra[key]), float(rb[key])
                except ValueError:
                    assert ra[key] == rb[key], (name, key, ra[key], rb[key])
                    continue
                if math.isnan(x) or math.isnan(y):
                    assert math.isnan(x) and math.isnan(y), (name, key, x, y)
                elif x != y:
                    worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
    return worst


def assert_same_outputs(expected: Path, actual: Path, label: str) -> None:
    """The fields of two runs are bit-identical and their scores agree to 1e-12 relative; prints
    the numbers (pytest -s) for the record."""
    identical = fields_identical(expected, actual)
    worst = max_relative_difference(expected, actual)
    print(f"{label}: fields bit-identical: {identical}, max relative metric difference {worst:.3e}")
    assert identical
    assert worst <= 1e-12
