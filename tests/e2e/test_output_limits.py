"""Output limits: a run whose outputs cannot fit in the output directory's free space is refused
before compute, with the estimate in the message; a write that fails half-way (a full disk, or
`ulimit -f`) ends the run with exit code 2 and leaves no file under a final name, and no
temporary file either."""

import resource
import subprocess
import uuid

import pytest

from conftest import GOLDEN, _binary

DATA = GOLDEN / "ocean_small" / "data"
FINAL_NAMES = {"results_simulation.h5", "metrics.csv", "metrics.json", "run.json"}


def simulate_args(stages, out, *extra):
    return ["simulate", "--data-dir", DATA, "--stages", f"{stages[0]},{stages[1]}", "--prediction-length", 4,
            "--ics", "0,1", "--output", out, "--threads", 2, *extra]


def run(args, file_size_limit=None):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run([str(_binary()), *map(str, args)], capture_output=True, text=True, timeout=600,
                          preexec_fn=limit if file_size_limit else None)


def assert_nothing_left(out):
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not left, f"files left in {out}: {left}"


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs (needs root and a kernel that allows the mount; skipped otherwise)."""
    mount_point = tmp_path / f"disk-{uuid.uuid4().hex[:8]}"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_outputs_larger_than_the_free_space_are_refused(golden_stages, tiny_disk):
    out = tiny_disk / "out"
    result = run(simulate_args(golden_stages, out, "--save-fields"))
    assert result.returncode == 2, result.stderr
    assert "the outputs need about" in result.stderr
    assert "2 x 2 ICs x 4 leads x 93 channels x 32 x 64 x 4 bytes" in result.stderr
    assert str(out) in result.stderr and "free" in result.stderr
    assert "finished IC" not in result.stderr  # before compute
    assert_nothing_left(out)
    # --dry-run says the same, without creating anything.
    dry = run(simulate_args(golden_stages, tiny_disk / "dry", "--save-fields", "--dry-run"))
    assert dry.returncode == 2 and "the outputs need about" in dry.stderr, dry.stderr
    # Without the fields the metrics fit, and the plan prints the estimate.
    fits = run(simulate_args(golden_stages, out, "--dry-run"))
    assert fits.returncode == 0, fits.stderr
    assert "free)" in fits.stdout


def test_full_disk_half_way_leaves_no_file(golden_stages, tiny_disk):
    """With compression the estimate is only an upper bound, so the run starts, and the disk fills."""
    out = tiny_disk / "out"
    result = run(simulate_args(golden_stages, out, "--save-fields", "--compression", 1))
    assert "with compression they may fit" in result.stderr
    assert result.returncode == 2, result.stderr
    assert "internal error" not in result.stderr
    assert "results_simulation.h5" in result.stderr
    assert_nothing_left(out)


@pytest.mark.parametrize("fmt,fields,extra", [
    ("hdf5", "results_simulation.h5", set()),
    ("netcdf", "results_simulation.nc", {"metrics.nc"}),
])
def test_write_past_ulimit_leaves_no_file(golden_stages, tmp_path, fmt, fields, extra):
    """`ulimit -f 1024` (1 MiB): the fields file outgrows it after a few frames; the process is not
    killed by SIGXFSZ, the write fails, and the run cleans up after itself."""
    out = tmp_path / "out"
    args = simulate_args(golden_stages, out, "--save-fields", "--format", fmt, "--year", 2020)
    result = run(args, file_size_limit=1 << 20)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    assert "internal error" not in result.stderr
    assert fields in result.stderr
    assert_nothing_left(out)
    # The same run without the limit succeeds and writes every output.
    ok = run(args)
    assert ok.returncode == 0, ok.stderr
    assert {p.name for p in out.iterdir()} == FINAL_NAMES - {"results_simulation.h5"} | {fields} | extra
