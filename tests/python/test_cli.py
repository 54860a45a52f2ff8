"""scripts/export_torchscript.py: arguments, strict checkpoint loading, exit codes and messages.

Most cases call ``neuralom_export.cli.main`` in-process (fast); a few run the real script."""

import os
import subprocess
import sys

import pytest
import torch

from exporter_testlib import (
    CHECKPOINTS, EXPORT_SCRIPT, SCRIPTS_DIR, SMALL_ARGS, forward_tolerance, golden_array, max_abs,
)
from neuralom_export.cli import main
from neuralom_export.export import read_metadata

EXIT_USAGE = 2


def _run_main(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.err


def _run_script(*args, env=None):
    return subprocess.run(
        [sys.executable, str(EXPORT_SCRIPT), *map(str, args)],
        capture_output=True, text=True, timeout=300, env=env,
    )


@pytest.fixture(scope="module")
def stage1_state():
    """The golden stage-1 checkpoint dict (keys with ``module.``)."""
    return torch.load(CHECKPOINTS["stage1"], map_location="cpu")


def _save(path, content):
    torch.save(content, path)
    return path


def _with_state(checkpoint, state):
    return dict(checkpoint, model_state=state)


# --- successful exports ------------------------------------------------------------------------


def test_help_lists_the_reference_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "360x720, mesh level 5, hidden 432, 16 processor layers" in out
    assert "120x240, mesh level 5, hidden 512, 16 processor layers, local refinement" in out


def test_script_exports_golden_checkpoint(tmp_path):
    out = tmp_path / "stage2.pt"
    result = _run_script("--model", "stage2", "--checkpoint", CHECKPOINTS["stage2"],
                         "--out", out, *SMALL_ARGS)
    assert result.returncode == 0, result.stderr
    for progress in ("building graph", "scripting", "MiB", "done"):
        assert progress in result.stderr
    assert "warning" not in result.stderr  # the reference builds the golden configuration
    assert result.stdout == ""
    y1 = golden_array("ocean_small", "y1")
    y = torch.jit.load(str(out))(y1) + y1
    reference = golden_array("ocean_small", "y")
    assert max_abs(y, reference) <= forward_tolerance(reference)


def _adam_state():
    """An optimizer_state_dict as the reference's training script saves it beside model_state:
    Adam's, after one step (floats lr, betas, eps, weight_decay; bools; a step count)."""
    parameter = torch.nn.Parameter(torch.ones(3))
    optimizer = torch.optim.Adam([parameter], lr=5e-4)
    with torch.enable_grad():  # the exporter turns gradients off
        (parameter * parameter).sum().backward()
    optimizer.step()
    return optimizer.state_dict()


@pytest.mark.parametrize("layout", ["no_prefix", "bare", "bare_with_prefix", "training_script"])
def test_other_checkpoint_layouts_load(tmp_path, capsys, stage1_state, layout):
    state = stage1_state["model_state"]
    stripped = {k[len("module."):]: v for k, v in state.items()}
    content = {
        "no_prefix": _with_state(stage1_state, stripped),
        "bare": stripped,
        "bare_with_prefix": dict(state),
        # torch 1.13's weights-only unpickler has no opcode for a float (BINFLOAT).
        "training_script": None,
    }[layout]
    if layout == "training_script":
        content = dict(stage1_state, optimizer_state_dict=_adam_state())
    checkpoint = _save(tmp_path / f"{layout}.tar", content)
    out = tmp_path / f"{layout}.pt"
    code, err = _run_main(capsys, "--model", "stage1", "--checkpoint", checkpoint, "--out", out,
                          *SMALL_ARGS)
    assert code == 0, err
    y1_raw = torch.jit.load(str(out))(golden_array("ocean_small", "x"))
    reference = golden_array("ocean_small", "y1_raw")
    assert max_abs(y1_raw, reference) <= forward_tolerance(reference)


def test_random_init_export(tmp_path, capsys):
    out = tmp_path / "atmos.pt"
    code, err = _run_main(capsys, "--model", "atmos", "--random-init", "--seed", 3, "--out", out,
                          *SMALL_ARGS)
    assert code == 0, err
    assert "warning" not in err
    meta = read_metadata(str(out))
    assert meta["random_init_seed"] == 3 and meta["checkpoint"] is None


# The reference's dgl.heterograph infers the mesh node count from the highest m2g source index:
# at 24x48, mesh level 4 (3110 refined vertices) vertex 3109 sends no m2g edge (model-spec §4.7).
COARSE_ATMOS_ARGS = [*SMALL_ARGS, "--input-res", "24", "48", "--mesh-level", "4"]
COARSE_ATMOS_WARNING = (
    "warning: the reference code cannot build this configuration (atmos, 24x48 grid, mesh level 4, "
    "local refinement): mesh vertex 3109 (the highest-numbered) sends no mesh->grid edge, so the "
    "reference's m2g DGL graph infers 3099 mesh nodes from its highest index instead of 3110 and "
    "raises DGLError. No reference run matches this export (")


def test_configuration_the_reference_cannot_build_warns(tmp_path, capsys):
    """Still exported (random sizes serve benchmarks), with one warning on stderr."""
    out = tmp_path / "atmos.pt"
    code, err = _run_main(capsys, "--model", "atmos", "--random-init", "--out", out,
                          *COARSE_ATMOS_ARGS)
    assert code == 0, err
    assert err.count("warning:") == 1
    assert (COARSE_ATMOS_WARNING + "fine for benchmarks, but no reference checkpoint trained at "
            "this configuration exists).\n") in err
    meta = read_metadata(str(out))
    assert meta["grid"] == [24, 48] and meta["graph"]["mesh_nodes"] == 3110


def test_checkpoint_at_a_configuration_the_reference_cannot_build_warns(tmp_path, capsys):
    """A warning, not an error: the weights do not depend on the grid or mesh, so a genuine
    reference checkpoint (trained at 32x64, level 3) loads strictly at this size too."""
    out = tmp_path / "atmos.pt"
    code, err = _run_main(capsys, "--model", "atmos", "--checkpoint", CHECKPOINTS["atmos"],
                          "--out", out, *COARSE_ATMOS_ARGS)
    assert code == 0, err
    assert (COARSE_ATMOS_WARNING + "the checkpoint's weights load (they do not depend on the grid "
            "or mesh), but the reference never ran them at this configuration).\n") in err
    assert read_metadata(str(out))["checkpoint_sha256"] is not None


def test_existing_output_is_replaced(tmp_path, capsys):
    out = tmp_path / "model.pt"
    out.write_text("old")
    code, err = _run_main(capsys, "--model", "stage2", "--random-init", "--out", out, *SMALL_ARGS)
    assert code == 0, err
    assert read_metadata(str(out))["random_init_seed"] == 0
    assert sorted(os.listdir(tmp_path)) == ["model.pt"]


# --- bad checkpoints ---------------------------------------------------------------------------


def _bad_checkpoint(tmp_path, stage1_state, change):
    state = dict(stage1_state["model_state"])
    change(state)
    return _save(tmp_path / "bad.tar", _with_state(stage1_state, state))


BAD_CHECKPOINTS = {
    "wrong_shape": (
        lambda s: s.__setitem__("module.finale.model.2.weight", torch.zeros(92, 32)),
        ["mis-shaped", "finale.model.2.weight", "expected shape [93, 32], found [92, 32]"],
    ),
    "missing_key": (
        lambda s: s.pop("module.encoder.src_node_mlp.model.3.bias"),
        ["missing", "encoder.src_node_mlp.model.3.bias"],
    ),
    "unexpected_key": (
        lambda s: s.__setitem__("module.extra_head.weight", torch.zeros(3)),
        ["unexpected", "extra_head.weight"],
    ),
    "integer_weights": (
        lambda s: s.__setitem__("module.finale.model.2.bias", torch.zeros(93, dtype=torch.int64)),
        ["dtype", "finale.model.2.bias"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CHECKPOINTS))
def test_bad_checkpoint_is_rejected_naming_the_key(tmp_path, capsys, stage1_state, case):
    change, expected = BAD_CHECKPOINTS[case]
    checkpoint = _bad_checkpoint(tmp_path, stage1_state, change)
    out = tmp_path / "out.pt"
    code, err = _run_main(capsys, "--model", "stage1", "--checkpoint", checkpoint, "--out", out,
                          *SMALL_ARGS)
    assert code == EXIT_USAGE
    for text in expected:
        assert text in err
    assert "Traceback" not in err
    assert not out.exists()


class _OpensAFile:
    """Unpickled, it would create the file it names: a stand-in for code a checkpoint runs."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("float_first", [False, True])
def test_checkpoint_naming_other_code_is_refused_unrun(tmp_path, capsys, stage1_state, float_first):
    # A float before the call sends torch 1.13 to the allow-listed unpickler, which must refuse the
    # call as the weights-only one does.
    marker = tmp_path / "ran"
    content = {"lr": 0.5} if float_first else {}
    content.update(model_state=stage1_state["model_state"], payload=_OpensAFile(marker))
    checkpoint = _save(tmp_path / "ckpt.tar", content)
    code, err = _run_main(capsys, "--model", "stage1", "--checkpoint", checkpoint, "--out", tmp_path / "x.pt",
                          *SMALL_ARGS)
    assert code == EXIT_USAGE
    assert "cannot be read by torch.load" in err and "ckpt.tar" in err
    assert not marker.exists() and not (tmp_path / "x.pt").exists()


def test_wrong_model_kind_is_rejected(tmp_path, capsys):
    code, err = _run_main(capsys, "--model", "stage2", "--checkpoint", CHECKPOINTS["stage1"],
                          "--out", tmp_path / "x.pt", *SMALL_ARGS)
    assert code == EXIT_USAGE
    assert "encoder_embedder.grid_node_mlp.model.0.weight: expected shape [32, 93], found [32, 101]" in err


def test_script_reports_bad_checkpoint_without_traceback(tmp_path, stage1_state):
    checkpoint = _bad_checkpoint(
        tmp_path, stage1_state, lambda s: s.pop("module.decoder.node_mlp.model.0.weight"))
    result = _run_script("--model", "stage1", "--checkpoint", checkpoint,
                         "--out", tmp_path / "out.pt", *SMALL_ARGS)
    assert result.returncode == EXIT_USAGE
    assert "decoder.node_mlp.model.0.weight" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content,message",
    [(b"not a checkpoint", "cannot be read"), ({"iters": 1, "epoch": 2}, "no state dict found")],
)
def test_unreadable_checkpoint_is_rejected(tmp_path, capsys, content, message):
    checkpoint = tmp_path / "ckpt.tar"
    if isinstance(content, bytes):
        checkpoint.write_bytes(content)
    else:
        torch.save(content, checkpoint)
    code, err = _run_main(capsys, "--model", "stage1", "--checkpoint", checkpoint,
                          "--out", tmp_path / "out.pt", *SMALL_ARGS)
    assert code == EXIT_USAGE
    assert message in err


# --- bad arguments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,message",
    [
        ([], "required"),
        (["--model", "ocean", "--random-init", "--out", "{tmp}/x.pt"], "invalid choice"),
        (["--model", "stage1", "--out", "{tmp}/x.pt"], "one of the arguments"),
        (["--model", "stage1", "--random-init", "--checkpoint", "{ckpt}", "--out", "{tmp}/x.pt"],
         "not allowed with"),
        (["--model", "stage1", "--checkpoint", "{ckpt}", "--seed", "1", "--out", "{tmp}/x.pt"],
         "--seed only applies"),
        (["--model", "stage1", "--checkpoint", "{tmp}/missing.tar", "--out", "{tmp}/x.pt"],
         "no such file"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}/no/dir/x.pt"], "does not exist"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}"], "is a directory"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}/x.pt", "--hidden-dim", "0"],
         "hidden dim must be >= 1"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}/x.pt", "--input-res", "32"],
         "expected 2 arguments"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}/x.pt", "--processor-layers", "2"],
         "processor layers must be >= 3"),
        (["--model", "stage1", "--random-init", "--out", "{tmp}/x.pt", "--mesh-level", "x"],
         "invalid int value"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, capsys, args, message):
    args = [a.format(tmp=tmp_path, ckpt=CHECKPOINTS["stage1"]) for a in args]
    code, err = _run_main(capsys, *args)
    assert code == EXIT_USAGE
    assert message in err
    assert not (tmp_path / "x.pt").exists()


def test_script_without_torch_explains_what_to_do(tmp_path):
    """An interpreter that cannot import torch (simulated) gets advice and exit code 2."""
    fake = tmp_path / "fake" / "torch"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no torch here (test)')\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(fake.parent), str(SCRIPTS_DIR)])
    env["PYTHON"] = str(tmp_path / "no-such-python")
    env.pop("NEURALOM_PYTHON", None)
    result = _run_script("--model", "stage1", "--random-init", "--out", tmp_path / "x.pt", env=env)
    assert result.returncode == EXIT_USAGE
    assert "cannot import torch" in result.stderr
    assert "/usr/bin/python3" in result.stderr and "$PYTHON" in result.stderr
    assert not (tmp_path / "x.pt").exists()
