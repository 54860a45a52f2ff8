"""`neuralom info --model FILE`: an exported model's metadata, graph provenance included."""

import hashlib
import json

import numpy as np

from conftest import GOLDEN


def _index_sha256(graph_npz):
    """The exporter's index digest (neuralom_export/graph_file.py), recomputed independently."""
    sha = hashlib.sha256()
    graph = np.load(graph_npz)
    for key in ("mesh_src", "mesh_dst", "g2m_src", "g2m_dst", "m2g_src", "m2g_dst"):
        sha.update(key.encode())
        sha.update(np.ascontiguousarray(graph[key], dtype="<i8").tobytes())
    return sha.hexdigest()


def test_info_model_prints_summary_and_graph_provenance(neuralom, golden_stages):
    result = neuralom("info", "--model", golden_stages[0])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "stage1 (MIGraph, 101->93 channels, 32x64, mesh level 3, hidden 32, 4 layers)" in out
    assert hashlib.sha256((GOLDEN / "ocean_small" / "stage1_best_ckpt.tar").read_bytes()).hexdigest() in out
    metadata = json.loads(out[out.index("neuralom.json:") + len("neuralom.json:"):])
    graph = metadata["graph"]
    assert graph["method"] == "portable"
    assert (graph["mesh_nodes"], graph["g2m_edges"], graph["m2g_edges"]) == (642, 3240, 6144)
    assert graph["index_sha256"] == _index_sha256(GOLDEN / "ocean_small" / "graph.npz")
    assert (f"graph       portable arithmetic, indices sha256 {graph['index_sha256'][:12]}…, 642 mesh nodes, "
            "5100 mesh / 3240 g2m / 6144 m2g edges") in out


def test_info_model_refuses_missing_and_foreign_files(neuralom, tmp_path):
    missing = neuralom("info", "--model", tmp_path / "absent.pt")
    assert missing.returncode == 2
    assert "absent.pt" in missing.stderr
    foreign = tmp_path / "notes.pt"
    foreign.write_text("not a model")
    result = neuralom("info", "--model", foreign)
    assert result.returncode == 2
    assert "notes.pt" in result.stderr


def test_every_command_help_names_each_option_once(neuralom):
    """`--help` of every command exits 0, shows its usage line once and lists each option once,
    with a value name and no cxxopts-made "(default: ...)" repeated after our own."""
    import re
    usages = {"simulate": "neuralom simulate [options]", "forecast": "neuralom forecast [options]",
              "merge": "neuralom merge --output DIR [options] SHARD_DIR...", "info": "neuralom info [options]"}
    for command, usage in usages.items():
        result = neuralom(command, "--help")
        assert result.returncode == 0, result.stderr
        text = result.stdout
        assert text.count(usage) == 1, text
        assert text.count("SHARD_DIR...") == (1 if command == "merge" else 0), text
        flags = re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", text, flags=re.MULTILINE)
        assert flags and len(flags) == len(set(flags)), [f for f in flags if flags.count(f) > 1]
        assert "--help" in flags and "--log-level" in flags
        assert " arg " not in text and "(default: 0)" not in text and '(default: "")' not in text, text
        headers = re.findall(r"^ (\w[\w -]*) options:$", text, flags=re.MULTILINE)
        assert len(headers) == len(set(headers)), headers
