"""Graph files (--graph FILE.npz): round trip, validation against the model configuration, the
provenance record in the export metadata, and the reference-side saver's array extraction."""

import importlib.util
import json

import numpy as np
import pytest
import torch

from exporter_testlib import (
    CHECKPOINTS, EXPORT_SCRIPT, GOLDEN, SCRIPTS_DIR, SMALL, SMALL_ARGS, forward_tolerance,
    golden_array, max_abs,
)
from neuralom_export.cli import main as export_main
from neuralom_export.export import export_model, read_metadata
from neuralom_export.graph import build_graph
from neuralom_export.graph_file import GRAPH_KEYS, GraphFileError, graph_provenance, load_graph, save_graph
from neuralom_export.icosphere import ATMOS_LOCAL_REFINEMENT
from neuralom_export.models import make_config

GOLDEN_GRAPH = GOLDEN / "ocean_small" / "graph.npz"
ATMOS_GRAPH = GOLDEN / "atmos_small" / "graph.npz"  # the reference's refined level-3 mesh: 786
NO_ARITHMETIC = SMALL_ARGS[: SMALL_ARGS.index("--mesh-arithmetic")]


@pytest.fixture(scope="module")
def config():
    return make_config("stage1", **SMALL)


def _damaged(tmp_path, change):
    arrays = dict(np.load(GOLDEN_GRAPH))
    change(arrays)
    path = tmp_path / "damaged.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("kind,path", [("stage1", GOLDEN_GRAPH), ("stage2", GOLDEN_GRAPH),
                                       ("atmos", ATMOS_GRAPH)])
def test_golden_graph_file_loads_unchanged(kind, path):
    graph = load_graph(str(path), make_config(kind, **SMALL))
    golden = dict(np.load(path))
    assert sorted(graph) == sorted(GRAPH_KEYS)
    for key in GRAPH_KEYS:
        np.testing.assert_array_equal(graph[key], golden[key], err_msg=key)
        assert graph[key].dtype == (np.int64 if golden[key].dtype.kind == "i" else np.float32)


def test_save_then_load_round_trips(tmp_path, config):
    built = build_graph(32, 64, 3, arithmetic="portable")
    path = tmp_path / "g.npz"
    save_graph(str(path), built)
    loaded = load_graph(str(path), config)
    for key in GRAPH_KEYS:
        np.testing.assert_array_equal(loaded[key], built[key], err_msg=key)
    assert [p.name for p in tmp_path.iterdir()] == ["g.npz"]  # no temporary left behind


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda a: a.pop("m2g_src"), "missing arrays m2g_src"),
        (lambda a: a.__setitem__("g2m_dst", a["g2m_dst"] + 700), "'g2m_dst' holds indices"),
        (lambda a: a.__setitem__("mesh_src", a["mesh_src"][:-1]), "'mesh_src' has 5099 edges"),
        (lambda a: a.__setitem__("m2g_edge_features", a["m2g_edge_features"][:, :3]),
         "'m2g_edge_features' has shape [6144, 3], expected [6144, 4]"),
        (lambda a: a.__setitem__("grid_latlon", a["grid_latlon"][::-1].copy()), "differs from the 32x64 grid"),
        (lambda a: a.__setitem__("mesh_vertices", a["mesh_vertices"][:162]), "expected 642 for mesh level 3"),
        (lambda a: a.__setitem__("mesh_node_features", a["mesh_node_features"] * np.nan), "NaN or Inf"),
        (lambda a: a.__setitem__("g2m_src", a["g2m_src"].astype(np.float32)), "expected integers"),
    ],
    ids=["missing", "index range", "edge count", "feature shape", "grid", "mesh level", "nan", "dtype"],
)
def test_bad_graph_files_are_refused(tmp_path, config, change, message):
    with pytest.raises(GraphFileError, match="graph file .*damaged.npz") as error:
        load_graph(str(_damaged(tmp_path, change)), config)
    assert message in str(error.value)


@pytest.mark.parametrize("refinement,nodes", [(None, 642), (ATMOS_LOCAL_REFINEMENT, 786)],
                         ids=["unrefined", "refined"])
def test_exporters_own_graph_file_loads(tmp_path, refinement, nodes):
    """What the exporter writes for a configuration loads for it (spec §4.8/§4.11 counts)."""
    built = build_graph(32, 64, 3, refinement, arithmetic="portable")
    assert built["mesh_vertices"].shape[0] == nodes
    path = tmp_path / "g.npz"
    save_graph(str(path), built)
    config = make_config("atmos" if refinement else "stage1", **SMALL)
    loaded = load_graph(str(path), config)
    assert loaded["mesh_vertices"].shape == (nodes, 3)


def test_unrefined_graph_is_refused_for_the_refined_model():
    """The atmosphere model's level-3 mesh has 786 vertices (local refinement, spec §4.8); the
    ocean models' 642-vertex graph used to pass an 'at least 642' check."""
    with pytest.raises(GraphFileError) as error:
        load_graph(str(GOLDEN_GRAPH), make_config("atmos", **SMALL))
    assert str(error.value) == (
        f"graph file {GOLDEN_GRAPH}: 642 mesh vertices, expected 786 for mesh level 3 with local "
        "refinement (642 is the level-3 mesh without local refinement: a graph of a stage1/stage2 "
        "model?)")


def test_refined_graph_is_refused_for_the_unrefined_model():
    with pytest.raises(GraphFileError) as error:
        load_graph(str(ATMOS_GRAPH), make_config("stage2", **SMALL))
    assert str(error.value) == (
        f"graph file {ATMOS_GRAPH}: 786 mesh vertices, expected 642 for mesh level 3 (786 is the "
        "level-3 mesh with the atmosphere model's local refinement: a graph of an atmos model?)")


def test_refined_graph_of_another_size_is_refused(tmp_path):
    """Any count other than the configuration's exact one, also above the unrefined count."""
    arrays = dict(np.load(ATMOS_GRAPH))
    arrays["mesh_vertices"] = arrays["mesh_vertices"][:700]
    path = tmp_path / "damaged.npz"
    np.savez(path, **arrays)
    with pytest.raises(GraphFileError) as error:
        load_graph(str(path), make_config("atmos", **SMALL))
    assert str(error.value) == (f"graph file {path}: 700 mesh vertices, expected 786 for mesh "
                                "level 3 with local refinement")


def test_graph_for_another_grid_is_refused(tmp_path):
    with pytest.raises(GraphFileError, match=r"expected \[1024, 2\] for the model's 32x32 grid"):
        load_graph(str(GOLDEN_GRAPH), make_config("stage1", **dict(SMALL, input_res=(32, 32))))


def test_non_npz_file_is_refused(tmp_path, config):
    path = tmp_path / "graph.npz"
    path.write_text("not a zip")
    with pytest.raises(GraphFileError, match="cannot be read as .npz"):
        load_graph(str(path), config)


def test_export_with_golden_graph_reproduces_reference(work_dir):
    """Exported anywhere with the goldens' graph file, stage 1 gives the goldens' output."""
    out = work_dir / "stage1_graph_file.pt"
    result = export_model(make_config("stage1", **SMALL), str(out), str(CHECKPOINTS["stage1"]),
                          graph_file=str(GOLDEN_GRAPH))
    graph = result.metadata["graph"]
    assert graph["method"] == "file"
    assert graph["file"] == str(GOLDEN_GRAPH.resolve())
    assert len(graph["file_sha256"]) == 64
    reference = golden_array("ocean_small", "y1_raw")
    y1_raw = torch.jit.load(str(out))(golden_array("ocean_small", "x"))
    assert max_abs(y1_raw, reference) <= forward_tolerance(reference)
    # The same graph as the portable build: same index digest.
    built = graph_provenance(build_graph(32, 64, 3, arithmetic="portable"), "portable")
    assert graph["index_sha256"] == built["index_sha256"]


@pytest.mark.skipif(not torch.__version__.startswith("1.13."), reason=(
    "graph features come from torch's float32 trigonometry, whose last bits differ between torch "
    f"versions (test_graph.py); the golden graph was built with torch 1.13, here {torch.__version__}"))
def test_golden_graph_features_equal_the_portable_build():
    golden = graph_provenance(dict(np.load(GOLDEN_GRAPH)), "file")
    built = graph_provenance(build_graph(32, 64, 3, arithmetic="portable"), "portable")
    assert golden["features_sha256"] == built["features_sha256"]


def test_provenance_tells_graphs_apart():
    graph = build_graph(32, 64, 3, arithmetic="portable")
    record = graph_provenance(graph, "portable")
    assert record["method"] == "portable"
    assert {"grid_nodes", "mesh_nodes", "mesh_edges", "g2m_edges", "m2g_edges"} <= set(record)
    assert {"numpy", "scipy", "scikit_learn", "torch"} <= set(record["built_with"])
    moved = dict(graph)
    moved["g2m_dst"] = graph["g2m_dst"].copy()
    moved["g2m_dst"][[0, 1]] = moved["g2m_dst"][[1, 0]]
    assert graph_provenance(moved, "portable")["index_sha256"] != record["index_sha256"]
    assert graph_provenance(dict(graph), "portable")["index_sha256"] == record["index_sha256"]


def test_cli_records_arithmetic_and_refuses_both_graph_options(tmp_path, capsys):
    out = tmp_path / "s2.pt"
    assert export_main(["--model", "stage2", "--random-init", "--out", str(out), *NO_ARITHMETIC]) == 0
    assert read_metadata(str(out))["graph"]["method"] == "reference"  # the default
    code = export_main(["--model", "stage2", "--random-init", "--out", str(out), *SMALL_ARGS,
                        "--graph", str(GOLDEN_GRAPH)])
    assert code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_cli_bad_graph_file_exits_2(tmp_path, capsys):
    bad = _damaged(tmp_path, lambda a: a.pop("mesh_faces"))
    code = export_main(["--model", "stage1", "--random-init", "--out", str(tmp_path / "x.pt"),
                        *NO_ARITHMETIC, "--graph", str(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert "damaged.npz" in err and "missing arrays mesh_faces" in err
    assert not (tmp_path / "x.pt").exists()


def test_cli_unrefined_graph_for_atmos_exits_2(tmp_path, capsys):
    out = tmp_path / "atm.pt"
    code = export_main(["--model", "atmos", "--random-init", "--out", str(out), *NO_ARITHMETIC,
                        "--graph", str(GOLDEN_GRAPH)])
    assert code == 2
    err = capsys.readouterr().err
    assert (f"error: graph file {GOLDEN_GRAPH}: 642 mesh vertices, expected 786 for mesh level 3 "
            "with local refinement") in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no archive, no temporary


def test_cli_refined_graph_for_atmos_is_accepted(tmp_path, capsys):
    out = tmp_path / "atm.pt"
    code = export_main(["--model", "atmos", "--random-init", "--out", str(out), *NO_ARITHMETIC,
                        "--graph", str(ATMOS_GRAPH)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "warning" not in err
    graph = read_metadata(str(out))["graph"]
    assert graph["method"] == "file" and graph["mesh_nodes"] == 786


class _FakeDGLGraph:
    """What save_reference_graph.graph_arrays reads of a DGL graph."""

    def __init__(self, src, dst, edge_x, node_x=None):
        self._edges = (torch.from_numpy(src).int(), torch.from_numpy(dst).int())
        self.edata = {"x": torch.from_numpy(edge_x)}
        self.ndata = {"x": torch.from_numpy(node_x)} if node_x is not None else {}

    def edges(self):
        return self._edges


def test_reference_saver_extracts_every_array(tmp_path, config):
    """scripts/save_reference_graph.py runs in the reference's environment (DGL); here its
    extraction runs on an object with the reference model's attributes, and its output loads."""
    spec = importlib.util.spec_from_file_location("save_reference_graph",
                                                  SCRIPTS_DIR / "save_reference_graph.py")
    saver = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(saver)
    g = dict(np.load(GOLDEN_GRAPH))

    class Model:
        class graph:
            lat_lon_grid_flat = torch.from_numpy(g["grid_latlon"])
            mesh_vertices = g["mesh_vertices"]
            mesh_faces = g["mesh_faces"].astype(np.int32)

        mesh_graph = _FakeDGLGraph(g["mesh_src"], g["mesh_dst"], g["mesh_edge_features"],
                                   g["mesh_node_features"])
        g2m_graph = _FakeDGLGraph(g["g2m_src"], g["g2m_dst"], g["g2m_edge_features"])
        m2g_graph = _FakeDGLGraph(g["m2g_src"], g["m2g_dst"], g["m2g_edge_features"])

    arrays = saver.graph_arrays(Model)
    assert sorted(arrays) == sorted(GRAPH_KEYS)
    path = tmp_path / "saved.npz"
    np.savez(path, **arrays)
    loaded = load_graph(str(path), config)
    for key in GRAPH_KEYS:
        np.testing.assert_array_equal(loaded[key], g[key], err_msg=key)


def test_metadata_is_json_serialisable(tmp_path):
    out = tmp_path / "a.pt"
    meta = export_model(make_config("atmos", **SMALL), str(out), seed=1).metadata
    assert json.loads(json.dumps(meta)) == read_metadata(str(out))
    assert meta["graph"]["method"] == "portable"
    assert EXPORT_SCRIPT.exists()
