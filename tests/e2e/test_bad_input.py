"""Bad input: every case gets a clear message naming the file or setting and exit code 2, before
any output is written."""

import shutil

import h5py
import numpy as np
import pytest

from conftest import GOLDEN

OCEAN = GOLDEN / "ocean_small"


def rewrite_fields(path, array, dataset="fields"):
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset(dataset, data=array)


def load_fields(path):
    with h5py.File(path, "r") as f:
        return f["fields"][...]


def damage_missing_dataset(data):
    rewrite_fields(data / "test" / "2020.h5", load_fields(data / "test" / "2020.h5"), dataset="temperature")


def damage_rank(data):
    x = load_fields(data / "test" / "2020.h5")
    rewrite_fields(data / "test" / "2020.h5", x.reshape(5, 97, -1))


def damage_channels(data):
    rewrite_fields(data / "test" / "2020.h5", load_fields(data / "test" / "2020.h5")[:, :96])


def damage_grid(data):
    rewrite_fields(data / "test" / "2020.h5", load_fields(data / "test" / "2020.h5")[:, :, :, :60])


def damage_climatology(data):
    clim = np.load(data / "climate_mean_s_t_ssh.npy")
    np.save(data / "climate_mean_s_t_ssh.npy", clim[:, :, :, :48])


def damage_mask(data):
    rewrite_fields(data / "land_mask.h5", load_fields(data / "land_mask.h5")[:, :50])


def damage_stats(data):
    np.save(data / "std_s_t_ssh.npy", np.ones((1, 90, 1, 1)))


def damage_zero_std(data):
    std = np.load(data / "std_s_t_ssh.npy")
    std[0, 7] = 0.0
    np.save(data / "std_s_t_ssh.npy", std)


def damage_remove_mask(data):
    (data / "land_mask.h5").unlink()


def damage_fortran_climatology(data):
    clim = np.load(data / "climate_mean_s_t_ssh.npy")
    np.save(data / "climate_mean_s_t_ssh.npy", np.asfortranarray(clim))


def damage_empty_climatology(data):
    clim = np.load(data / "climate_mean_s_t_ssh.npy")
    np.save(data / "climate_mean_s_t_ssh.npy", clim[:0])  # [0, 97, 33, 64]: a stack of no days


def damage_chunk(data):
    # Chunked and compressed, one chunk per field; then the chunk of day 4 (the last day that
    # --ics 0,1 with a prediction of 4 days needs), channel 50, is overwritten with garbage.
    path = data / "test" / "2020.h5"
    x = load_fields(path)
    path.unlink()
    with h5py.File(path, "w") as f:
        f.create_dataset("fields", data=x, chunks=(1, 1) + x.shape[2:], compression="gzip")
    with h5py.File(path, "r") as f:
        chunk = f["fields"].id.get_chunk_info_by_coord((4, 50, 0, 0))
    with open(path, "r+b") as f:
        f.seek(chunk.byte_offset)
        f.write(bytes(range(256)) * (chunk.size // 256) + bytes(chunk.size % 256))


CASES = {
    "missing dataset": (damage_missing_dataset, ["no dataset 'fields'", "temperature"]),
    "wrong rank": (damage_rank, ["2020.h5", "4 dimensions"]),
    "wrong channel count": (damage_channels, ["2020.h5", "96 channels"]),
    "wrong grid": (damage_grid, ["2020.h5", "32x64"]),
    "climatology shape": (damage_climatology, ["climate_mean_s_t_ssh.npy", "does not match"]),
    "mask shape": (damage_mask, ["land_mask.h5", "[1, 50, 33, 64]"]),
    "stats shape": (damage_stats, ["std_s_t_ssh.npy", "[1, 90, 1, 1]", "97"]),
    "zero std": (damage_zero_std, ["std_s_t_ssh.npy", "channel 7"]),
    "missing mask": (damage_remove_mask, ["land mask not found", "land_mask.h5"]),
    "fortran climatology": (damage_fortran_climatology, ["climate_mean_s_t_ssh.npy", "ortran"]),
    "corrupt chunk": (damage_chunk, ["2020.h5", "count [1, 97, 32, 64] failed", "first and last days"]),
    "climatology of no days": (damage_empty_climatology, ["climate_mean_s_t_ssh.npy", "[0, 97, 33, 64]",
                                                          "holds no days"]),
}


def run(neuralom, stages, data, output, *extra):
    return neuralom("simulate", "--data-dir", data, "--stages", f"{stages[0]},{stages[1]}",
                    "--prediction-length", 4, "--ics", "0,1", "--output", output, *extra)


def assert_rejected(result, fragments, output=None):
    assert result.returncode == 2, f"exit {result.returncode}\nstdout:{result.stdout}\nstderr:{result.stderr}"
    for fragment in fragments:
        assert fragment in result.stderr, f"'{fragment}' not in: {result.stderr}"
    assert "internal error" not in result.stderr
    # A refused run leaves nothing behind, not even the --output directory it would have created.
    if output is not None:
        assert not output.exists(), f"{output} was created: {list(output.iterdir())}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_data(neuralom, golden_stages, data_copy, tmp_path, case):
    damage, fragments = CASES[case]
    damage(data_copy)
    out = tmp_path / "out"
    assert_rejected(run(neuralom, golden_stages, data_copy, out), fragments, out)


def test_missing_year(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    result = run(neuralom, golden_stages, OCEAN / "data", out, "--year", "2031")
    assert_rejected(result, ["2031.h5", "not found", "2020"], out)


def test_ics_beyond_file(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", OCEAN / "data", "--stages", ",".join(map(str, golden_stages)),
                      "--prediction-length", 4, "--ics", "0:3", "--output", out)
    assert_rejected(result, ["initial condition 2", "days 2..5", "0..4"], out)


def test_model_does_not_match_data(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    s2 = golden_stages[1]
    result = neuralom("simulate", "--data-dir", OCEAN / "data", "--stages", f"{s2},{s2}",
                      "--prediction-length", 4, "--ics", "0", "--output", out)
    assert_rejected(result, [str(s2), "93 -> 93", "101 -> 93"], out)


def test_channel_config_does_not_match_model(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    result = run(neuralom, golden_stages, OCEAN / "data", out, "--atmos-channels", "93:95")
    assert_rejected(result, ["stage 1 maps 101 -> 93", "2 forcing channels"], out)


def test_unwritable_output(neuralom, golden_stages, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    result = run(neuralom, golden_stages, OCEAN / "data", blocker / "out")
    assert_rejected(result, [str(blocker)])


def test_existing_outputs_are_not_overwritten(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.csv").write_text("precious")
    result = run(neuralom, golden_stages, OCEAN / "data", out)
    assert_rejected(result, ["metrics.csv", "--overwrite"])
    assert (out / "metrics.csv").read_text() == "precious"
    assert run(neuralom, golden_stages, OCEAN / "data", out, "--overwrite").returncode == 0
    assert (out / "metrics.csv").read_text().startswith("system,lead,variable")


def test_overwrite_leaves_no_output_of_the_earlier_run(neuralom, golden_stages, tmp_path):
    out = tmp_path / "out"
    first = run(neuralom, golden_stages, OCEAN / "data", out, "--extremes", "--save-fields")
    assert first.returncode == 0, first.stderr
    assert (out / "extremes.csv").exists() and (out / "results_simulation.h5").exists()
    again = run(neuralom, golden_stages, OCEAN / "data", out, "--overwrite", "--format", "netcdf")
    assert again.returncode == 0, again.stderr
    # What run.json lists is what the directory holds: no extremes or HDF5 fields of the first run beside it.
    assert sorted(p.name for p in out.iterdir()) == ["metrics.csv", "metrics.json", "metrics.nc",
                                                     "results_simulation.nc", "run.json"]
    assert "removing" in again.stderr and "extremes.csv" in again.stderr


def test_a_refused_run_removes_the_parent_directories_it_created(neuralom, golden_stages, tmp_path):
    # --cuda-graphs on the CPU is refused after the output directory was made, with its parents.
    out = tmp_path / "new" / "deeper" / "out"
    result = run(neuralom, golden_stages, OCEAN / "data", out, "--device", "cpu", "--cuda-graphs")
    assert_rejected(result, ["--cuda-graphs needs a CUDA device"], tmp_path / "new")
    assert tmp_path.is_dir()  # what existed before stays


def test_a_threshold_file_the_run_would_replace_is_refused(neuralom, golden_stages, tmp_path):
    # An earlier run's extremes.csv is a threshold file, but not in the directory this run writes it to.
    out = tmp_path / "out"
    first = run(neuralom, golden_stages, OCEAN / "data", out, "--extremes")
    assert first.returncode == 0, first.stderr
    before = (out / "extremes.csv").read_bytes()
    result = run(neuralom, golden_stages, OCEAN / "data", out, "--extremes", "--overwrite",
                 "--extreme-thresholds", out / "extremes.csv")
    assert_rejected(result, [f"--extreme-thresholds {out / 'extremes.csv'} is the extremes.csv this run writes",
                             "copy it elsewhere"])
    assert (out / "extremes.csv").read_bytes() == before
    shutil.copy(out / "extremes.csv", tmp_path / "thresholds.csv")
    again = run(neuralom, golden_stages, OCEAN / "data", out, "--extremes", "--overwrite",
                "--extreme-thresholds", tmp_path / "thresholds.csv")
    assert again.returncode == 0, again.stderr


def test_checkpoint_instead_of_export_prints_command(neuralom, golden_stages, tmp_path):
    shutil.copy(OCEAN / "stage1_best_ckpt.tar", tmp_path / "best_ckpt.tar")
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", OCEAN / "data", "--stages",
                      f"{tmp_path / 'best_ckpt.pt'},{golden_stages[1]}", "--prediction-length", 4, "--ics", "0",
                      "--output", out)
    assert_rejected(result, ["export_torchscript.py --model stage1 --checkpoint", "best_ckpt.tar"], out)


def test_not_a_model(neuralom, golden_stages, tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a zip archive")
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", OCEAN / "data", "--stages", f"{bogus},{golden_stages[1]}",
                      "--prediction-length", 4, "--ics", "0", "--output", out)
    assert_rejected(result, [str(bogus)], out)


@pytest.mark.parametrize("args,fragment", [
    (["--ics", "3:x"], "--ics"),
    (["--prediction-length", "1"], "prediction"),
    (["--batch", "0"], "batch"),
    (["--device", "tpu"], "tpu"),
    (["--no-such-flag"], "no-such-flag"),
    (["--save-channels", "T9999"], "T9999"),
    (["--prediction-length", "9223372036854775807"], "prediction length 9223372036854775807"),
    (["--ics", "0:9223372036854775807"], "more than 1048576 indices"),
    (["--ics", "9223372036854775807"], "needs days 9223372036854775807..beyond 2^63"),
    (["--compression", "4294967297"], "compression"),
    (["--cuda-graphs"], "--cuda-graphs needs a CUDA device"),  # refused after the output directory is checked
])
def test_bad_flags(neuralom, golden_stages, tmp_path, args, fragment):
    out = tmp_path / "out"
    result = neuralom("simulate", "--data-dir", OCEAN / "data", "--stages", ",".join(map(str, golden_stages)),
                      "--prediction-length", 4, "--ics", "0", "--output", out, *args)
    assert_rejected(result, [fragment], out)


def test_non_finite_prediction(neuralom, golden_stages, data_copy, tmp_path):
    """An Inf in the initial state makes the prediction non-finite: the run stops naming the lead
    day and channels, and leaves no metrics behind."""
    path = data_copy / "test" / "2020.h5"
    x = load_fields(path)
    ocean = np.argwhere(np.isfinite(x[0, 69, :32]))[0]
    x[0, 69, ocean[0], ocean[1]] = np.inf
    rewrite_fields(path, x)
    out = tmp_path / "out"
    result = run(neuralom, golden_stages, data_copy, out, "--save-fields")
    assert_rejected(result, ["lead day 1", "NaN", "IC 0"])
    assert not (out / "metrics.csv").exists()
    assert not (out / "results_simulation.h5").exists()
    assert not list(out.glob("*.partial"))
