"""Runs that survive interruption: a run killed with `kill -9` after its first initial condition,
or stopped by SIGTERM, continues with `--resume` to outputs identical to an uninterrupted run's;
a resume is refused, naming what changed, when a setting or a data file is not what the
interrupted run used; a journal is never silently overwritten."""

import json
import os
import shlex
import shutil
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from conftest import GOLDEN, assert_same_outputs

# The golden file's 5 days repeated to 24, so that a run has 22 initial conditions of 2 forecast
# days: long enough to be stopped after its first one, whatever the machine's speed.
DAYS = 24
P = 3
ICS = f"0:{DAYS - P + 1}"


@pytest.fixture(scope="module")
def long_data(tmp_path_factory):
    target = tmp_path_factory.mktemp("long") / "data"
    shutil.copytree(GOLDEN / "ocean_small" / "data", target)
    path = target / "test" / "2020.h5"
    with h5py.File(path, "r") as f:
        fields = f["fields"][...]
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset("fields", data=np.resize(fields, (DAYS,) + fields.shape[1:]))
    clim = np.load(target / "climate_mean_s_t_ssh.npy")
    np.save(target / "climate_mean_s_t_ssh.npy", np.resize(clim, (DAYS,) + clim.shape[1:]))
    return target


def run_args(stages, data, output, *extra):
    return ["simulate", "--data-dir", data, "--stages", f"{stages[0]},{stages[1]}", "--prediction-length", P,
            "--ics", ICS, "--threads", 1, "--device", "cpu", "--save-fields", "--baselines", "--output", output,
            *extra]


def start(args):
    binary = os.environ.get("NEURALOM_BIN")
    return subprocess.Popen([binary, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_first_batch(process, output):
    """Returns once the run has journaled its first initial condition (it is then in the middle of
    the next one: 21 remain)."""
    record = output / "journal" / "batch-000000.cbor"
    deadline = time.monotonic() + 600
    while not record.exists():
        assert process.poll() is None, f"the run ended first:\n{process.communicate()[1]}"
        assert time.monotonic() < deadline, "no initial condition finished within 10 minutes"
        time.sleep(0.005)


def finished_batches(output):
    return sorted(p.name for p in (output / "journal").glob("batch-*.cbor"))


@pytest.fixture(scope="module")
def uninterrupted(neuralom, golden_stages, long_data, work_dir):
    out = work_dir / "resume_reference"
    result = neuralom(*run_args(golden_stages, long_data, out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def killed(golden_stages, long_data, work_dir):
    """The output directory of a run killed with SIGKILL after its first initial condition."""
    out = work_dir / "resume_killed"
    process = start(run_args(golden_stages, long_data, out))
    wait_for_first_batch(process, out)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL
    return out


def test_kill_9_leaves_a_journal_and_no_final_outputs(killed):
    assert sorted(p.name for p in killed.iterdir()) == ["journal"]
    header = json.loads((killed / "journal" / "journal.json").read_text())
    assert header["batches"] == DAYS - P + 1
    assert header["settings"]["ics"] == list(range(DAYS - P + 1))
    assert 1 <= len(finished_batches(killed)) < header["batches"]


def test_resume_after_kill_9_equals_the_uninterrupted_run(neuralom, golden_stages, long_data, killed, uninterrupted,
                                                           tmp_path):
    out = tmp_path / "resumed"
    shutil.copytree(killed, out)
    done_before = len(finished_batches(out))
    result = neuralom(*run_args(golden_stages, long_data, out, "--resume"))
    assert result.returncode == 0, result.stderr
    assert f"{done_before} of {DAYS - P + 1} initial conditions were finished before" in result.stderr
    assert_same_outputs(uninterrupted, out, f"kill -9 after {done_before} IC(s), then --resume")
    # The finished run keeps only its final outputs.
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv", "metrics.json", "results_simulation.h5",
                                                     "run.json"]
    run = json.loads((out / "run.json").read_text())
    assert run["parallel"]["resumed"] and run["parallel"]["batches_run_now"] == DAYS - P + 1 - done_before
    assert run["timings"]["ic_days"] == (DAYS - P + 1) * (P - 1)


def test_sigterm_stops_cleanly_and_prints_the_command_that_resumes(neuralom, golden_stages, long_data, uninterrupted,
                                                                   tmp_path):
    out = tmp_path / "stopped"
    process = start(run_args(golden_stages, long_data, out))
    wait_for_first_batch(process, out)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr and "initial conditions are finished and kept in" in stderr
    assert not (out / "metrics.csv").exists() and not (out / "results_simulation.h5").exists()
    assert not list(out.rglob("*.partial")), "a temporary file was left behind"
    command = stderr.split("continue the run with\n")[1].splitlines()[0].strip()
    args = shlex.split(command)
    assert args[0] == "neuralom" and args[-1] == "--resume"
    result = neuralom(*args[1:])
    assert result.returncode == 0, result.stderr
    assert_same_outputs(uninterrupted, out, "SIGTERM, then the printed command")


def test_a_journal_is_not_overwritten_without_asking(neuralom, golden_stages, long_data, killed, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(killed, out)
    before = finished_batches(out)
    result = neuralom(*run_args(golden_stages, long_data, out))
    assert result.returncode == 2
    assert "--resume" in result.stderr and "--overwrite" in result.stderr
    assert finished_batches(out) == before


def test_resume_refuses_a_changed_setting(neuralom, golden_stages, long_data, killed, tmp_path):
    out = tmp_path / "changed"
    shutil.copytree(killed, out)
    before = finished_batches(out)
    args = run_args(golden_stages, long_data, out, "--resume")
    args.remove("--baselines")
    result = neuralom(*args)
    assert result.returncode == 2
    assert "setting 'baselines' differs from the interrupted run's (true then, false now)" in result.stderr
    assert finished_batches(out) == before


def test_resume_refuses_a_changed_precision(neuralom, golden_stages, long_data, killed, tmp_path):
    # The run began in fp32 (not written into the settings); bf16 would give other numbers.
    out = tmp_path / "precision"
    shutil.copytree(killed, out)
    before = finished_batches(out)
    result = neuralom(*run_args(golden_stages, long_data, out, "--resume", "--precision", "bf16"))
    assert result.returncode == 2, result.stderr
    assert "setting 'precision' differs from the interrupted run's ((absent) then, \"bf16\" now)" in result.stderr
    assert finished_batches(out) == before


def test_resume_refuses_changed_data(neuralom, golden_stages, data_copy, tmp_path):
    # A finished shard is a journal too: cheap to make, and resumable.
    out = tmp_path / "shard"
    args = ["simulate", "--data-dir", data_copy, "--stages", ",".join(map(str, golden_stages)),
            "--prediction-length", P, "--ics", "0:3", "--threads", 1, "--device", "cpu", "--shard", "0/2",
            "--output", out]
    assert neuralom(*args).returncode == 0
    assert neuralom(*args, "--resume").returncode == 0  # nothing left to do: fine
    clim = np.load(data_copy / "climate_mean_s_t_ssh.npy")
    np.save(data_copy / "climate_mean_s_t_ssh.npy", clim + np.float32(0.5))
    result = neuralom(*args, "--resume")
    assert result.returncode == 2
    assert "climatology" in result.stderr and "climate_mean_s_t_ssh.npy changed since the run began" in result.stderr


def test_a_second_run_in_the_same_directory_is_refused_while_the_first_writes(neuralom, golden_stages, long_data,
                                                                              tmp_path):
    # E.g. a Slurm requeue with --resume while the first job still runs: both would write one journal.
    out = tmp_path / "busy"
    process = start(run_args(golden_stages, long_data, out))
    try:
        wait_for_first_batch(process, out)
        second = neuralom(*run_args(golden_stages, long_data, out, "--resume"))
        assert second.returncode == 2, second.stderr
        assert f"another neuralom process is writing to {out}" in second.stderr, second.stderr
        assert "finished IC" not in second.stderr
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()


@pytest.mark.parametrize("hashing", [[], ["--no-data-hash"]], ids=["sha256", "no-data-hash"])
def test_resume_refuses_a_changed_threshold_file(neuralom, golden_stages, data_copy, tmp_path, hashing):
    thresholds = tmp_path / "thresholds.csv"
    thresholds.write_text("variable,quantile,lower_threshold,upper_threshold\nSSH,0.8,-0.5,0.4\n")
    out = tmp_path / "shard"
    args = ["simulate", "--data-dir", data_copy, "--stages", ",".join(map(str, golden_stages)),
            "--prediction-length", P, "--ics", "0:3", "--threads", 1, "--device", "cpu", "--shard", "0/2",
            "--extremes", "--extreme-variables", "SSH:both", "--extreme-quantiles", "0.8",
            "--extreme-thresholds", thresholds, "--output", out, *hashing]
    assert neuralom(*args).returncode == 0
    header = json.loads((out / "journal" / "journal.json").read_text())
    assert header["extreme_thresholds"]["values"] == [[[-0.5, 0.4]]]
    assert next(e for e in header["inputs"] if e["role"] == "extreme thresholds")["sha256"]  # always hashed
    # Counts scored against two sets of thresholds must not be summed.
    thresholds.write_text("variable,quantile,lower_threshold,upper_threshold\nSSH,0.8,-0.2,0.1\n")
    result = neuralom(*args, "--resume")
    assert result.returncode == 2, result.stderr
    assert f"the extreme thresholds {thresholds} changed since the run began (SHA-256" in result.stderr, result.stderr
