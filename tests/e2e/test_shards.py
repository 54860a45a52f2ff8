"""`--shard K/N` and `neuralom merge`: the shards of a run, merged, give the fields and scores of
the run done by one process (bit for bit: the same batches compute the same numbers, and the metrics
are summed in IC order); an incomplete or mixed set of shards, statistics changed since the shards
read them, or a damaged journal are refused, naming what is missing or changed; a fields part damaged
by a crash runs again on --resume."""

import hashlib
import json

import numpy as np
import pytest

from conftest import GOLDEN, assert_same_outputs

DATA = GOLDEN / "ocean_small" / "data"
# 3 initial conditions of 2 forecast days each (the golden file has 5 days): 3 batches of one IC.
COMMON = ["--prediction-length", 3, "--ics", "0:3", "--threads", 1, "--device", "cpu", "--baselines"]


def simulate(neuralom, stages, output, *extra):
    result = neuralom("simulate", "--data-dir", DATA, "--stages", f"{stages[0]},{stages[1]}", *COMMON,
                      "--output", output, *extra)
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize("fields", [["--save-fields", "--extremes", "--compression", 4], ["--format", "netcdf", "--save-truth"]],
                         ids=["hdf5", "netcdf"])
def test_merged_shards_equal_one_run(neuralom, golden_stages, tmp_path, fields):
    single = tmp_path / "single"
    simulate(neuralom, golden_stages, single, *fields)
    shards = [tmp_path / f"shard{k}" for k in range(2)]
    for k, out in enumerate(shards):
        result = simulate(neuralom, golden_stages, out, "--shard", f"{k}/2", *fields)
        assert "neuralom merge" in result.stdout
        # A shard writes its journal, not final outputs.
        assert sorted(p.name for p in out.iterdir()) == ["journal"]
    header = json.loads((shards[1] / "journal" / "journal.json").read_text())
    assert header["shard"] == "1/2" and header["batches"] == 3
    assert len(list((shards[0] / "journal").glob("batch-*.cbor"))) == 2  # blocks: batches 0-1, then 2

    merged = tmp_path / "merged"
    result = neuralom("merge", *shards, "--output", merged)
    assert result.returncode == 0, result.stderr
    assert "Merged 6 IC-days" in result.stdout
    assert_same_outputs(single, merged, f"merged shards vs one process ({' '.join(map(str, fields))})")
    names = sorted(p.name for p in merged.iterdir())
    assert "journal" not in names and not [n for n in names if n.endswith(".partial")]
    run = json.loads((merged / "run.json").read_text())
    assert [s["shard"] for s in run["merged_from"]] == ["0/2", "1/2"]
    if "netcdf" in fields:
        assert (merged / "metrics.nc").exists()


def test_merge_names_the_missing_shard(neuralom, golden_stages, tmp_path):
    shard0 = tmp_path / "shard0"
    simulate(neuralom, golden_stages, shard0, "--shard", "0/2")
    result = neuralom("merge", shard0, "--output", tmp_path / "merged")
    assert result.returncode == 2, result.stderr
    assert "batch 2 (IC 2) is missing" in result.stderr and "shard 1/2" in result.stderr
    assert not (tmp_path / "merged").exists()  # a refused merge leaves no --output it created


def test_merge_refuses_shards_of_different_runs(neuralom, golden_stages, tmp_path):
    simulate(neuralom, golden_stages, tmp_path / "a", "--shard", "0/2")
    result = neuralom("simulate", "--data-dir", DATA, "--stages", ",".join(map(str, golden_stages)),
                      "--prediction-length", 2, "--ics", "0:3", "--threads", 1, "--device", "cpu", "--baselines",
                      "--shard", "1/2", "--output", tmp_path / "b")
    assert result.returncode == 0, result.stderr
    result = neuralom("merge", tmp_path / "a", tmp_path / "b", "--output", tmp_path / "merged")
    assert result.returncode == 2
    assert "not a shard of the same run" in result.stderr and "'prediction_length'" in result.stderr


@pytest.mark.parametrize("args,fragment", [
    (["--shard", "2/2"], "0 <= K < N"),
    (["--shard", "x"], "--shard"),
])
def test_bad_shard_flags(neuralom, golden_stages, tmp_path, args, fragment):
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", DATA, "--stages", ",".join(map(str, golden_stages)), *COMMON,
                      "--output", out, *args)
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert not out.exists()  # a refused run leaves no --output behind


def test_merge_usage_errors(neuralom, tmp_path):
    result = neuralom("merge", "--output", tmp_path / "merged")
    assert result.returncode == 2 and "shard directories" in result.stderr
    result = neuralom("merge", tmp_path)
    assert result.returncode == 2 and "--output" in result.stderr
    result = neuralom("merge", tmp_path, "--output", tmp_path / "merged")
    assert result.returncode == 2 and "no journal" in result.stderr


def shards_of(neuralom, stages, tmp_path, data, *extra):
    """Both shards of a 3-IC run on `data`."""
    dirs = [tmp_path / f"shard{k}" for k in range(2)]
    for k, out in enumerate(dirs):
        result = neuralom("simulate", "--data-dir", data, "--stages", f"{stages[0]},{stages[1]}", *COMMON,
                          "--shard", f"{k}/2", "--output", out, *extra)
        assert result.returncode == 0, result.stderr
    return dirs


@pytest.mark.parametrize("hashing", [[], ["--no-data-hash"]], ids=["sha256", "size-and-time"])
def test_merge_refuses_statistics_changed_after_the_shards_ran(neuralom, golden_stages, tmp_path, data_copy, hashing):
    # The scores are reduced with the standard deviations on disk at merge time: they must be the
    # ones the shards read, or every nRMSE is off (here tenfold).
    shards = shards_of(neuralom, golden_stages, tmp_path, data_copy, *hashing)
    header = json.loads((shards[0] / "journal" / "journal.json").read_text())
    stds = next(e for e in header["inputs"] if e["role"] == "channel standard deviations")
    assert (stds["sha256"] is None) == bool(hashing)  # a shard waits for its digests before it ends
    np.save(data_copy / "std_s_t_ssh.npy", np.load(data_copy / "std_s_t_ssh.npy") * np.float32(10))
    merged = tmp_path / "merged"
    result = neuralom("merge", *shards, "--output", merged)
    assert result.returncode == 2, result.stderr
    assert "channel standard deviations" in result.stderr and "changed since the run began" in result.stderr
    assert "run that shard again with --overwrite" in result.stderr
    assert not merged.exists()


def test_merge_records_the_digests_the_shards_read(neuralom, golden_stages, tmp_path, data_copy):
    shards = shards_of(neuralom, golden_stages, tmp_path, data_copy)
    merged = tmp_path / "merged"
    result = neuralom("merge", *shards, "--output", merged)
    assert result.returncode == 0, result.stderr
    run = json.loads((merged / "run.json").read_text())
    journaled = {e["path"]: e["sha256"] for e in json.loads((shards[1] / "journal" / "journal.json").read_text())["inputs"]}
    for path, digest in journaled.items():
        assert run["sha256"][path] == digest, path
    assert run["sha256"][str(data_copy / "std_s_t_ssh.npy")] == hashlib.sha256(
        (data_copy / "std_s_t_ssh.npy").read_bytes()).hexdigest()


@pytest.mark.parametrize("damage, fragment", [
    (lambda h: h.update(inputs=5), "'inputs' is not a list"),
    (lambda h: h["inputs"][0].update(sha256=17), "inputs[0].'sha256' is not a string or null"),
    (lambda h: h.update(extreme_thresholds={"source": "x"}), "extreme_thresholds.'values' is not a list"),
])
def test_a_damaged_journal_header_is_an_input_error(neuralom, golden_stages, tmp_path, damage, fragment):
    shards = shards_of(neuralom, golden_stages, tmp_path, DATA)
    path = shards[1] / "journal" / "journal.json"
    header = json.loads(path.read_text())
    damage(header)
    path.write_text(json.dumps(header))
    result = neuralom("merge", *shards, "--output", tmp_path / "merged")
    assert result.returncode == 2, result.stderr
    assert f"{path}: not a readable journal header ({fragment})" in result.stderr, result.stderr
    assert "internal error" not in result.stderr
    resumed = neuralom("simulate", "--data-dir", DATA, "--stages", ",".join(map(str, golden_stages)), *COMMON,
                       "--shard", "1/2", "--output", shards[1], "--resume")
    assert resumed.returncode == 2 and fragment in resumed.stderr, resumed.stderr


def test_a_part_emptied_by_a_crash_runs_again_on_resume(neuralom, golden_stages, tmp_path):
    fields = ["--save-fields"]
    single = tmp_path / "single"
    simulate(neuralom, golden_stages, single, *fields)
    shards = shards_of(neuralom, golden_stages, tmp_path, DATA, *fields)
    # What a crash between the rename and the data reaching the disk leaves: a name and no data.
    (shards[0] / "journal" / "parts" / "batch-000001.h5").write_bytes(b"")
    resumed = neuralom("simulate", "--data-dir", DATA, "--stages", ",".join(map(str, golden_stages)), *COMMON,
                       "--shard", "0/2", "--output", shards[0], "--resume", *fields)
    assert resumed.returncode == 0, resumed.stderr
    assert "batch 1 will run again" in resumed.stderr and "(damaged)" in resumed.stderr, resumed.stderr
    merged = tmp_path / "merged"
    result = neuralom("merge", *shards, "--output", merged)
    assert result.returncode == 0, result.stderr
    assert_same_outputs(single, merged, "a shard resumed after its part was emptied, merged")
