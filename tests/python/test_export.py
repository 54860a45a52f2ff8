"""The exported archive: neuralom.json contents, exported methods, atomic writing."""

import hashlib
import json
import os

import numpy as np
import pytest
import torch

from exporter_testlib import CHECKPOINTS, GOLDEN, SMALL, forward_tolerance, golden_array, max_abs
from neuralom_export import export as export_module
from neuralom_export.export import export_model, read_metadata
from neuralom_export.graph_file import graph_provenance
from neuralom_export.models import make_config

COMMON_KEYS = {
    "format", "format_version", "model", "reference_class", "in_channels", "out_channels", "grid",
    "mesh_level", "hidden_dim", "processor_layers", "local_refinement", "graph", "parameters",
    "checkpoint", "checkpoint_sha256", "random_init_seed", "torch_version", "exporter_version",
    "created_utc",
}
EXTRA_KEYS = {
    "stage1": {"forcing_channels_per_day"},
    "stage2": set(),
    "atmos": {"substeps_per_day", "forcing_channels"},
}
# golden/*/summary.json
GOLDEN_GRAPHS = {
    "stage1": dict(grid_nodes=2048, mesh_nodes=642, mesh_edges=5100, g2m_edges=3240, m2g_edges=6144),
    "atmos": dict(grid_nodes=2048, mesh_nodes=786, mesh_edges=6174, g2m_edges=3544, m2g_edges=6144),
}
GOLDEN_GRAPHS["stage2"] = GOLDEN_GRAPHS["stage1"]
GOLDEN_PARAMETERS = {"stage1": 102561, "stage2": 102305, "atmos": 80197}


@pytest.fixture(scope="module")
def exported(work_dir):
    """kind -> (archive path, ExportResult) of the golden checkpoints."""
    results = {}
    for kind, checkpoint in CHECKPOINTS.items():
        out = work_dir / f"export_{kind}.pt"
        results[kind] = (out, export_model(make_config(kind, **SMALL), str(out), str(checkpoint)))
    return results


@pytest.mark.parametrize("kind", ["stage1", "stage2", "atmos"])
def test_metadata_contents(exported, kind):
    path, result = exported[kind]
    meta = read_metadata(str(path))
    assert meta == result.metadata
    assert set(meta) == COMMON_KEYS | EXTRA_KEYS[kind]
    expected_channels = {"stage1": (101, 93), "stage2": (93, 93), "atmos": (69, 69)}[kind]
    assert meta["format"] == "neuralom-model" and meta["format_version"] == 1
    assert meta["model"] == kind
    assert meta["reference_class"] == {"stage1": "MIGraph", "stage2": "MIGraph_stage2",
                                       "atmos": "OneForecast"}[kind]
    assert (meta["in_channels"], meta["out_channels"]) == expected_channels
    assert meta["grid"] == [32, 64]
    assert (meta["mesh_level"], meta["hidden_dim"], meta["processor_layers"]) == (3, 32, 4)
    assert {key: meta["graph"][key] for key in GOLDEN_GRAPHS[kind]} == GOLDEN_GRAPHS[kind]
    assert meta["graph"]["method"] == "portable"  # SMALL pins the goldens' arithmetic
    golden = np.load(GOLDEN / ("atmos_small" if kind == "atmos" else "ocean_small") / "graph.npz")
    assert meta["graph"]["index_sha256"] == graph_provenance(dict(golden), "file")["index_sha256"]
    assert meta["parameters"] == GOLDEN_PARAMETERS[kind]
    checkpoint = CHECKPOINTS[kind]
    assert meta["checkpoint"] == str(checkpoint.resolve())
    assert meta["checkpoint_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert meta["random_init_seed"] is None
    assert meta["torch_version"] == torch.__version__
    assert meta["created_utc"].endswith("Z")
    if kind == "stage1":
        assert meta["forcing_channels_per_day"] == 4
    if kind == "atmos":
        assert meta["substeps_per_day"] == 4
        assert meta["forcing_channels"] == [65, 66, 67, 68]
        assert [box["lon_min"] for box in meta["local_refinement"]] == [105.0, -95.0]
    else:
        assert meta["local_refinement"] is False


def test_metadata_is_plain_json(exported):
    path, _ = exported["stage1"]
    extra = {"neuralom.json": ""}
    torch.jit.load(str(path), _extra_files=extra)
    assert json.loads(extra["neuralom.json"])["model"] == "stage1"


def test_archive_is_ready_for_inference(exported):
    path, _ = exported["stage1"]
    model = torch.jit.load(str(path))
    for method in ("forward", "build_static_cache", "build_light_static_cache", "clear_static_cache", "set_edge_chunk"):
        assert hasattr(model, method), method
    assert not model.static_cache_built()
    assert model.get_edge_chunk() == 0
    assert not any(p.requires_grad for p in model.parameters())
    assert all(b.device.type == "cpu" for b in model.buffers())
    reference = golden_array("ocean_small", "y1_raw")
    error = max_abs(model(golden_array("ocean_small", "x")), reference)
    assert error <= forward_tolerance(reference)


def test_random_init_export_is_reproducible(work_dir):
    config = make_config("stage2", **SMALL)
    paths = [work_dir / name for name in ("seed0_a.pt", "seed0_b.pt", "seed1.pt")]
    metas = [export_model(config, str(p), seed=s).metadata for p, s in zip(paths, (0, 0, 1))]
    assert metas[0]["random_init_seed"] == 0 and metas[0]["checkpoint"] is None
    assert metas[0]["checkpoint_sha256"] is None
    weights = [dict(torch.jit.load(str(p)).named_parameters()) for p in paths]
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], weights[2][k]) for k in weights[0])


def test_write_is_atomic(work_dir, monkeypatch):
    folder = work_dir / "atomic"
    folder.mkdir()
    out = folder / "model.pt"
    out.write_bytes(b"previous")
    config = make_config("stage2", **SMALL)

    def failing_save(module, path, _extra_files=None):
        with open(path, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(export_module.torch.jit, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        export_model(config, str(out), seed=0)
    assert out.read_bytes() == b"previous"
    assert os.listdir(folder) == ["model.pt"]

    monkeypatch.undo()
    export_model(config, str(out), seed=0)
    assert read_metadata(str(out))["model"] == "stage2"
    assert os.listdir(folder) == ["model.pt"]


def test_golden_exports_give_no_warning(exported):
    assert all(result.warnings == [] for _, result in exported.values())


def test_warning_of_an_unbuildable_configuration_goes_to_warn(tmp_path, capsys):
    """``warn`` receives it (default: stderr) and the result keeps it; the archive is written."""
    config = make_config("stage1", **dict(SMALL, input_res=(45, 90), mesh_level=6))
    given = []
    result = export_model(config, str(tmp_path / "s1.pt"), seed=0, warn=given.append)
    assert result.warnings == given and len(given) == 1
    assert given[0].startswith(
        "the reference code cannot build this configuration (stage1, 45x90 grid, mesh level 6): "
        "mesh vertex 40961 (the highest-numbered) gets no grid->mesh edge, so the reference's g2m "
        "DGL graph infers 40953 mesh nodes")
    assert "infers 40955 mesh nodes" in given[0]
    assert capsys.readouterr().err == ""
    assert (tmp_path / "s1.pt").is_file()
