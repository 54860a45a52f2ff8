"""`mpirun -np 2 neuralom simulate|forecast`: the initial conditions split across two ranks give the
fields and scores of one process (bit for bit with the same --threads per process), in one results
file of the reference layout; logs come from rank 0; a rank that fails on bad input stops both,
with its message printed once, exit code 2 and no final file. Runs only in a build with MPI (CTest
passes the launcher as NEURALOM_MPIEXEC); two ranks on two cores, oversubscribed if need be."""

import json
import os
import re
import subprocess

import h5py
import numpy as np
import pytest

from conftest import GOLDEN, assert_same_outputs

MPIEXEC = os.environ.get("NEURALOM_MPIEXEC")
pytestmark = pytest.mark.skipif(not MPIEXEC, reason="neuralom was built without MPI (NEURALOM_MPIEXEC not set)")

OCEAN_DATA = GOLDEN / "ocean_small" / "data"
ATMOS_DATA = GOLDEN / "ocean_small_forecasting" / "data"
# 3 initial conditions, one per batch: rank 0 runs ICs 0 and 1, rank 1 runs IC 2.
COMMON = ["--prediction-length", 3, "--ics", "0:3", "--threads", 1, "--device", "cpu", "--baselines"]


def mpirun(ranks, *args, env_extra=None, rank_env=None, rank_args=None):
    """`ranks` processes of neuralom; env_extra for all of them, or rank_env: one dict per rank (an
    MPMD launch, `mpiexec -np 1 -x A=1 neuralom ... : -np 1 -x A=2 neuralom ...`), and rank_args: more
    arguments for each rank."""
    if rank_args is not None and rank_env is None:
        rank_env = [{} for _ in range(ranks)]
    env = dict(os.environ)
    if os.geteuid() == 0:  # containers and CI run as root; OpenMPI refuses that unless told
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    program = [os.environ["NEURALOM_BIN"], *map(str, args)]
    if rank_env is None:
        exported = []
        for name, value in (env_extra or {}).items():
            env[name] = value
            exported += ["-x", name]
        command = [MPIEXEC, "-np", str(ranks), "--oversubscribe", *exported, *program]
    else:
        assert len(rank_env) == ranks
        command = [MPIEXEC, "--oversubscribe"]
        for r, variables in enumerate(rank_env):
            command += [":"] if r else []
            command += ["-np", "1"]
            for name, value in variables.items():
                command += ["-x", f"{name}={value}"]
            command += program + [str(a) for a in (rank_args[r] if rank_args else [])]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, env=env)


def mode_args(mode, stages, atmos):
    args = [mode, "--data-dir", OCEAN_DATA, "--stages", f"{stages[0]},{stages[1]}", *COMMON]
    if mode == "forecast":
        args += ["--atmos", atmos, "--atmos-dir", ATMOS_DATA / "test_atmos", "--atmos-mean",
                 ATMOS_DATA / "mean_atmos.npy", "--atmos-std", ATMOS_DATA / "std_atmos.npy"]
    return args


@pytest.mark.parametrize("mode,fields", [
    ("simulate", ["--save-fields", "--extremes"]),
    ("simulate", ["--format", "netcdf"]),
    ("forecast", ["--save-fields"]),
], ids=["simulate-hdf5", "simulate-netcdf", "forecast-hdf5"])
def test_two_ranks_equal_one_process(neuralom, golden_stages, golden_atmos, tmp_path, mode, fields):
    args = mode_args(mode, golden_stages, golden_atmos) + fields
    single = tmp_path / "single"
    result = neuralom(*args, "--output", single)
    assert result.returncode == 0, result.stderr
    parallel = tmp_path / "mpi"
    result = mpirun(2, *args, "--output", parallel)
    assert result.returncode == 0, result.stderr
    assert_same_outputs(single, parallel, f"{mode} {' '.join(map(str, fields))}: mpirun -np 2 vs one process")
    assert sorted(p.name for p in parallel.iterdir()) == sorted(p.name for p in single.iterdir())
    run = json.loads((parallel / "run.json").read_text())
    assert run["parallel"]["mpi_ranks"] == 2
    # Logs and progress from rank 0; the summary once.
    assert "2 MPI ranks" in result.stderr and "ETA" in result.stderr
    assert "[rank 1] [info]" not in result.stderr
    assert result.stdout.count("Wrote:") == 1


def test_more_ranks_than_batches(neuralom, golden_stages, tmp_path):
    args = mode_args("simulate", golden_stages, None) + ["--save-fields", "--batch", 2]
    result = neuralom(*args, "--output", tmp_path / "single")
    assert result.returncode == 0, result.stderr
    result = mpirun(3, *args, "--output", tmp_path / "mpi")  # 2 batches: rank 2 has nothing to run
    assert result.returncode == 0, result.stderr
    assert_same_outputs(tmp_path / "single", tmp_path / "mpi", "mpirun -np 3, 2 batches of 2 ICs")


def test_records_larger_than_one_mpi_message_arrive_whole(neuralom, golden_stages, tmp_path):
    # MPI counts are ints: the ranks' batch records (which can pass 2 GiB in a long run) and the job
    # travel in chunks. 7-byte chunks here, so that every transfer takes many, with a tail.
    args = mode_args("simulate", golden_stages, None) + ["--extremes", "--save-fields"]
    result = neuralom(*args, "--output", tmp_path / "single")
    assert result.returncode == 0, result.stderr
    result = mpirun(2, *args, "--output", tmp_path / "mpi", "--log-level", "debug",
                    env_extra={"NEURALOM_MPI_CHUNK_BYTES": "7"})
    assert result.returncode == 0, result.stderr
    gathered = re.search(r"MPI gather: (\d+) bytes from 2 ranks in (\d+) messages of at most 7 bytes", result.stderr)
    assert gathered, result.stderr[-2000:]
    assert int(gathered[2]) > 1  # rank 1's records took many messages
    assert_same_outputs(tmp_path / "single", tmp_path / "mpi", "mpirun -np 2, records in 7-byte MPI chunks")
    # Ranks that were given different chunk sizes (per-host environments) use rank 0's.
    result = mpirun(2, *args, "--output", tmp_path / "mixed", "--log-level", "debug",
                    rank_env=[{"NEURALOM_MPI_CHUNK_BYTES": "7"}, {"NEURALOM_MPI_CHUNK_BYTES": "5"}])
    assert result.returncode == 0, result.stderr
    assert re.search(r"MPI gather: \d+ bytes from 2 ranks in \d+ messages of at most 7 bytes", result.stderr), \
        result.stderr[-2000:]
    assert_same_outputs(tmp_path / "single", tmp_path / "mixed", "mpirun, ranks given 7- and 5-byte chunks")


def test_a_failing_rank_stops_both(golden_stages, data_copy, tmp_path):
    # An Inf in the initial state of IC 2, which rank 1 runs: its prediction is NaN.
    path = data_copy / "test" / "2020.h5"
    with h5py.File(path, "r") as f:
        x = f["fields"][...]
    row, col = np.argwhere(np.isfinite(x[2, 69, :32]))[0]
    x[2, 69, row, col] = np.inf
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset("fields", data=x)
    out = tmp_path / "out"
    result = mpirun(2, "simulate", "--data-dir", data_copy, "--stages", ",".join(map(str, golden_stages)), *COMMON,
                    "--save-fields", "--output", out)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("neuralom: error:") == 1, result.stderr
    assert "neuralom: error: rank 1: prediction for lead day 1 of IC 2" in result.stderr
    assert "internal error" not in result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["journal"], names  # no final file, nothing half-written under a final name
    assert not list(out.rglob("*.partial"))


def test_a_run_refused_on_another_rank_leaves_no_output(golden_stages, tmp_path):
    # Rank 0 plans the run and creates --output; rank 1 alone is refused (--cuda-graphs on the CPU,
    # after its output checks): rank 0 removes the directory again, and rank 1's reason is reported.
    out = tmp_path / "new" / "out"
    result = mpirun(2, *mode_args("simulate", golden_stages, None), "--output", out,
                    rank_args=[[], ["--cuda-graphs"]])
    assert result.returncode == 2, result.stderr
    assert "neuralom: error: rank 1: --cuda-graphs needs a CUDA device" in result.stderr, result.stderr
    assert not (tmp_path / "new").exists()


def test_bad_flags_are_reported_once(golden_stages, tmp_path):
    result = mpirun(2, "simulate", "--data-dir", OCEAN_DATA, "--stages", ",".join(map(str, golden_stages)),
                    "--ics", "0:x", "--output", tmp_path / "out")
    assert result.returncode == 2
    assert result.stderr.count("neuralom: error:") == 1 and "--ics" in result.stderr
