"""Graph arrays to and from ``.npz`` files, their validation, and their provenance record.

A graph file holds the arrays that ``graph.build_graph`` returns, under the same names as the
golden cases' ``graph.npz``. It lets a user carry the exact graph of the machine where the
reference ran (``scripts/save_reference_graph.py`` writes one from a reference model instance)
into an export made anywhere: ``export_torchscript.py --graph FILE.npz``.

``graph_provenance`` describes a graph for the export metadata: how it was made, SHA-256s of its
index and feature arrays, its sizes, and the libraries whose rounding it depends on, so that two
exports with different graphs are told apart at a glance (``neuralom info --model FILE``).
"""

import hashlib
import os
import tempfile
from typing import Any, Dict, Optional

import numpy as np
import torch

from .config import ModelConfig
from .graph import GraphArrays, graph_sizes, grid_latlon
from .icosphere import ATMOS_LOCAL_REFINEMENT, mesh_counts

INDEX_KEYS = ("mesh_src", "mesh_dst", "g2m_src", "g2m_dst", "m2g_src", "m2g_dst")
FEATURE_KEYS = (
    "mesh_node_features", "mesh_edge_features", "g2m_edge_features", "m2g_edge_features",
)
GRAPH_KEYS = ("grid_latlon", "mesh_vertices", "mesh_faces") + INDEX_KEYS + FEATURE_KEYS

# Grid coordinates in a file may come from another torch build (float32 linspace); anything
# further than this from ours is another grid, not another rounding.
_GRID_TOLERANCE_DEG = 1e-3


class GraphFileError(Exception):
    """A graph file that cannot be read or does not fit the model configuration."""


def _digest(graph: GraphArrays, keys, dtype) -> str:
    """SHA-256 over the named arrays in order, each as little-endian ``dtype`` bytes."""
    sha = hashlib.sha256()
    for key in keys:
        sha.update(key.encode())
        sha.update(np.ascontiguousarray(graph[key], dtype=np.dtype(dtype).newbyteorder("<")).tobytes())
    return sha.hexdigest()


def _library_versions() -> Dict[str, Any]:
    """Versions (and NumPy's BLAS) that the reference arithmetic's rounding depends on."""
    import scipy
    import sklearn

    versions: Dict[str, Any] = {
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__,
        "torch": torch.__version__,
    }
    try:
        from threadpoolctl import threadpool_info

        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            versions["blas"] = {k: blas[0].get(k) for k in ("internal_api", "version", "architecture")}
    except Exception:  # threadpoolctl is optional (a scikit-learn dependency); never fail on it
        pass
    return versions


def graph_provenance(
    graph: GraphArrays, method: str, source: Optional[str] = None
) -> Dict[str, Any]:
    """The ``graph`` section of ``neuralom.json``.

    ``method``: ``reference`` or ``portable`` (built here with that mesh arithmetic) or ``file``
    (read from ``source``). Keys ``grid_nodes`` … ``m2g_edges`` are read by the C++ engine.
    """
    record: Dict[str, Any] = dict(graph_sizes(graph))
    record["method"] = method
    record["index_sha256"] = _digest(graph, INDEX_KEYS, np.int64)
    record["features_sha256"] = _digest(graph, FEATURE_KEYS, np.float32)
    if source is not None:
        record["file"] = os.path.abspath(source)
        sha = hashlib.sha256()
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        record["file_sha256"] = sha.hexdigest()
    record["built_with"] = _library_versions()
    return record


def save_graph(path: str, graph: GraphArrays) -> None:
    """Write the graph arrays to ``path`` (``.npz``, uncompressed) atomically."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".graph-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **{key: graph[key] for key in GRAPH_KEYS})
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _expect(ok: bool, path: str, message: str) -> None:
    if not ok:
        raise GraphFileError(f"graph file {path}: {message}")


def _index_array(arrays, key: str, path: str, upper: int, what: str) -> np.ndarray:
    value = arrays[key]
    _expect(value.ndim == 1, path, f"'{key}' has shape {list(value.shape)}, expected one dimension")
    _expect(value.dtype.kind in "iu", path, f"'{key}' has dtype {value.dtype}, expected integers")
    if value.size:
        low, high = int(value.min()), int(value.max())
        _expect(low >= 0 and high < upper, path,
                f"'{key}' holds indices {low}..{high}, expected 0..{upper - 1} ({what})")
    return value.astype(np.int64)


def _float_array(arrays, key: str, path: str, rows: int, cols: int) -> np.ndarray:
    value = arrays[key]
    _expect(value.dtype.kind == "f", path, f"'{key}' has dtype {value.dtype}, expected float")
    _expect(value.shape == (rows, cols), path,
            f"'{key}' has shape {list(value.shape)}, expected [{rows}, {cols}]")
    _expect(bool(np.all(np.isfinite(value))), path, f"'{key}' holds NaN or Inf")
    return value.astype(np.float32)


def _check_mesh_nodes(mesh_nodes: int, config: ModelConfig, path: str) -> None:
    """The file's mesh vertex count must be the configuration's exactly: ``10 * 4**L + 2``, or,
    with local refinement, the refined mesh's count (``icosphere.mesh_counts``: the exporter's own
    mesh code, without the grid graphs; the same on every machine)."""
    level = config.mesh_level
    refinement = config.local_refinement
    expected = mesh_counts(level, refinement).vertices
    if mesh_nodes == expected:
        return
    unrefined = mesh_counts(level).vertices
    if refinement:
        hint = (f" ({unrefined} is the level-{level} mesh without local refinement: a graph of a "
                f"stage1/stage2 model?)" if mesh_nodes == unrefined else "")
        _expect(False, path, f"{mesh_nodes} mesh vertices, expected {expected} for mesh level "
                f"{level} with local refinement{hint}")
    refined = mesh_counts(level, ATMOS_LOCAL_REFINEMENT).vertices
    hint = (f" ({refined} is the level-{level} mesh with the atmosphere model's local refinement: "
            f"a graph of an atmos model?)" if mesh_nodes == refined else "")
    _expect(False, path,
            f"{mesh_nodes} mesh vertices, expected {expected} for mesh level {level}{hint}")


def load_graph(path: str, config: ModelConfig) -> GraphArrays:
    """The graph arrays of ``path``, checked against ``config``: keys, dtypes, shapes, index
    ranges, edge counts matching feature rows, the grid (size and coordinates) and the mesh (its
    vertex count equals the configuration's: mesh level and local refinement). Indices come back
    int64, features float32. Raises GraphFileError."""
    _expect(os.path.isfile(path), path, "no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except Exception as exc:  # zipfile/ValueError/OSError for foreign or damaged files
        raise GraphFileError(f"graph file {path}: cannot be read as .npz ({exc})") from exc
    missing = [key for key in GRAPH_KEYS if key not in arrays]
    _expect(not missing, path, f"missing arrays {', '.join(missing)} (expected {', '.join(GRAPH_KEYS)})")

    height, width = config.input_res
    grid_nodes = height * width
    ours = grid_latlon(height, width).numpy()
    theirs = arrays["grid_latlon"]
    _expect(theirs.shape == ours.shape, path,
            f"'grid_latlon' has shape {list(theirs.shape)}, expected [{grid_nodes}, 2] for the "
            f"model's {height}x{width} grid")
    offset = float(np.max(np.abs(theirs.astype(np.float64) - ours))) if ours.size else 0.0
    _expect(offset <= _GRID_TOLERANCE_DEG, path,
            f"'grid_latlon' differs from the {height}x{width} grid's coordinates by up to "
            f"{offset:.3g} deg (row 0 at -90, column 0 at -180 + 360/W expected)")

    vertices = _float_array(arrays, "mesh_vertices", path, arrays["mesh_vertices"].shape[0], 3)
    mesh_nodes = vertices.shape[0]
    _check_mesh_nodes(mesh_nodes, config, path)

    faces = arrays["mesh_faces"]
    _expect(faces.ndim == 2 and faces.shape[1] == 3 and faces.dtype.kind in "iu", path,
            f"'mesh_faces' has shape {list(faces.shape)} and dtype {faces.dtype}, expected [F, 3] integers")
    _expect(faces.size == 0 or (int(faces.min()) >= 0 and int(faces.max()) < mesh_nodes), path,
            f"'mesh_faces' indexes beyond the {mesh_nodes} mesh vertices")

    graph: GraphArrays = {"grid_latlon": theirs.astype(np.float32), "mesh_vertices": vertices, "mesh_faces": faces.astype(np.int64)}
    spaces = {"mesh": (mesh_nodes, "mesh vertices"), "grid": (grid_nodes, "grid nodes")}
    for prefix, src_space, dst_space in (("mesh", "mesh", "mesh"), ("g2m", "grid", "mesh"),
                                         ("m2g", "mesh", "grid")):
        src = _index_array(arrays, f"{prefix}_src", path, *spaces[src_space])
        dst = _index_array(arrays, f"{prefix}_dst", path, *spaces[dst_space])
        _expect(src.size == dst.size, path,
                f"'{prefix}_src' has {src.size} edges but '{prefix}_dst' has {dst.size}")
        graph[f"{prefix}_src"], graph[f"{prefix}_dst"] = src, dst
        graph[f"{prefix}_edge_features"] = _float_array(
            arrays, f"{prefix}_edge_features", path, src.size, 4)
    _expect(graph["m2g_src"].size == 3 * grid_nodes, path,
            f"{graph['m2g_src'].size} m2g edges, expected 3 per grid node = {3 * grid_nodes}")
    graph["mesh_node_features"] = _float_array(arrays, "mesh_node_features", path, mesh_nodes, 3)
    return graph
