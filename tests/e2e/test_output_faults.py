"""Output locations that fail: a location that cannot be written is reported before anything runs,
and a disk that fills up in the middle of a run stops it with a clear message and exit code 2,
leaving nothing under a final name (the journal of the finished initial conditions stays, so that
the run can be resumed once there is room)."""

import os
import resource
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from conftest import GOLDEN

DATA = GOLDEN / "ocean_small" / "data"
FINAL = ["metrics.csv", "metrics.json", "run.json", "results_simulation.h5", "extremes.csv", "extremes.json"]


def args(stages, output):
    return ["simulate", "--data-dir", DATA, "--stages", ",".join(map(str, stages)), "--prediction-length", 3,
            "--ics", "0:3", "--threads", 1, "--device", "cpu", "--save-fields", "--output", output]


def test_unwritable_location(neuralom, golden_stages, tmp_path):
    if os.geteuid() == 0:
        # root writes through permission bits; sysfs refuses new entries even to root.
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no sysfs: no location that root cannot write")
        target = Path("/sys") / f"neuralom-e2e-{uuid.uuid4().hex}"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        target = locked / "out"
    result = neuralom(*args(golden_stages, target))
    assert result.returncode == 2, result.stderr
    assert f"cannot write to {target}" in result.stderr
    assert not target.exists()


def test_disk_full_in_the_middle_of_a_run(golden_stages, tmp_path):
    """A file-size limit stands in for a full disk: the header and score records fit, the first
    initial condition's fields (4.6 MB) do not."""
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # then write(2) fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (2_000_000, 2_000_000))

    out = tmp_path / "out"
    result = subprocess.run([os.environ["NEURALOM_BIN"], *map(str, args(golden_stages, out))], capture_output=True,
                            text=True, timeout=600, preexec_fn=limit_file_size)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    assert "neuralom: error:" in result.stderr and "batch-000000.h5" in result.stderr
    assert "disk full" in result.stderr
    for name in FINAL:
        assert not (out / name).exists(), name
    assert not list(out.rglob("*.partial")), "a temporary file was left behind"
