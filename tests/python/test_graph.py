"""The static graphs equal the reference's: golden graph.npz at 32x64 (indices exactly, features
within 1e-6) and the counts of model-spec §4.11 at the reference resolutions, both with the
*portable* mesh arithmetic, which is how the goldens' machine rounded (its BLAS sdot had no FMA);
and the default *reference* arithmetic makes the reference's own library calls.

The goldens were made with torch 1.13 and scikit-learn 1.2.1 (the Debian 12 stack). Elsewhere:
* other scikit-learn versions order *exactly equidistant* g2m neighbours of a grid node
  differently (seen with 1.9.1); that permutes edges within one grid node, which changes only the
  encoder's summation order. The exact comparison runs with the goldens' version; a
  version-independent one checks equality up to such permutations.
* other torch versions' float32 trigonometry differs in the last bits (seen: up to 1.3e-6 in the
  features with torch 2.11 on AVX-512), so the feature tolerance is 1e-6 with torch 1.13 only.
"""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.neighbors import NearestNeighbors

from exporter_testlib import GOLDEN
from neuralom_export.graph import (
    build_graph, graph_sizes, grid_latlon, latlon_to_xyz, reference_build_problems,
)
from neuralom_export.icosphere import (
    ATMOS_LOCAL_REFINEMENT, PORTABLE, REFERENCE, build_multimesh, face_centroids, icosahedron,
    mesh_counts, mesh_hierarchy,
)

GOLDEN_SKLEARN = "1.2.1"
GOLDEN_TORCH = "1.13."
FEATURE_TOLERANCE = 1e-6 if torch.__version__.startswith(GOLDEN_TORCH) else 1e-5
CASES = {"ocean_small": None, "atmos_small": ATMOS_LOCAL_REFINEMENT}


@pytest.fixture(scope="module", params=sorted(CASES))
def graphs(request):
    case = request.param
    built = build_graph(32, 64, 3, CASES[case], PORTABLE)
    return case, built, dict(np.load(GOLDEN / case / "graph.npz"))


def _g2m_order(graph):
    """Row order that sorts the g2m edges by (grid node, mesh node)."""
    return np.lexsort((graph["g2m_dst"], graph["g2m_src"]))


def test_graph_has_the_golden_arrays(graphs):
    case, built, golden = graphs
    assert sorted(built) == sorted(golden), case


@pytest.mark.skipif(
    sklearn.__version__ != GOLDEN_SKLEARN,
    reason=f"g2m tie order is scikit-learn's (goldens: {GOLDEN_SKLEARN}, here "
    f"{sklearn.__version__}); test_graph_indices_equal_golden_up_to_ties covers this version",
)
def test_graph_indices_equal_golden_exactly(graphs):
    case, built, golden = graphs
    for name, value in golden.items():
        if value.dtype.kind == "i":
            np.testing.assert_array_equal(built[name], value, err_msg=f"{case}: {name}")


def test_graph_indices_equal_golden_up_to_ties(graphs):
    """Every index array is exact except the order of exactly equidistant g2m neighbours."""
    case, built, golden = graphs
    for name, value in golden.items():
        if value.dtype.kind == "i" and name != "g2m_dst":
            assert built[name].dtype == np.int64, name
            np.testing.assert_array_equal(built[name], value, err_msg=f"{case}: {name}")
    moved = np.nonzero(built["g2m_dst"] != golden["g2m_dst"])[0]
    if moved.size == 0:
        return
    grid_xyz = latlon_to_xyz(grid_latlon(32, 64)).numpy().astype(np.float64)
    mesh = built["mesh_vertices"].astype(np.float64)
    src = built["g2m_src"][moved]
    distance_built = np.linalg.norm(grid_xyz[src] - mesh[built["g2m_dst"][moved]], axis=1)
    distance_golden = np.linalg.norm(grid_xyz[src] - mesh[golden["g2m_dst"][moved]], axis=1)
    np.testing.assert_array_equal(distance_built, distance_golden, err_msg=f"{case}: g2m_dst")
    order_built, order_golden = _g2m_order(built), _g2m_order(golden)
    np.testing.assert_array_equal(built["g2m_dst"][order_built], golden["g2m_dst"][order_golden])


def test_graph_float_arrays_match_golden(graphs):
    case, built, golden = graphs
    aligned = {"g2m_edge_features": (_g2m_order(built), _g2m_order(golden))}
    for name, value in golden.items():
        if value.dtype.kind != "f":
            continue
        rows_built, rows_golden = aligned.get(name, (slice(None), slice(None)))
        ours, theirs = built[name][rows_built], value[rows_golden]
        assert ours.dtype == np.float32, name
        assert ours.shape == theirs.shape, f"{case}: {name}"
        error = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
        assert error <= FEATURE_TOLERANCE, f"{case}: {name} differs by {error}"


def test_g2m_neighbours_are_the_nearest_within_the_radius():
    """Independent of the goldens: every g2m edge joins a grid node to one of its 4 nearest mesh
    vertices, in increasing distance."""
    graph = build_graph(32, 64, 3)
    grid_xyz = latlon_to_xyz(grid_latlon(32, 64)).numpy()
    distance, index = NearestNeighbors(n_neighbors=4).fit(graph["mesh_vertices"]).kneighbors(grid_xyz)
    src, dst = graph["g2m_src"], graph["g2m_dst"]
    assert np.all(np.diff(src) >= 0)
    for node in range(0, grid_xyz.shape[0], 97):
        mine = dst[src == node]
        assert set(mine) <= set(index[node])
        lengths = np.linalg.norm(graph["mesh_vertices"][mine] - grid_xyz[node], axis=1)
        assert np.all(np.diff(lengths) >= -1e-7)


def test_mesh_levels_nest():
    meshes = mesh_hierarchy(3)
    assert [m.vertices.shape[0] for m in meshes] == [12, 42, 162, 642]
    assert [m.faces.shape[0] for m in meshes] == [20, 80, 320, 1280]
    for coarse, fine in zip(meshes, meshes[1:]):
        np.testing.assert_array_equal(fine.vertices[: coarse.vertices.shape[0]], coarse.vertices)
    norms = np.linalg.norm(meshes[-1].vertices.astype(np.float64), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-6)


def _g2m_edges_per_grid_node(graph):
    per_node = np.bincount(graph["g2m_src"], minlength=graph["grid_latlon"].shape[0])
    return np.bincount(per_node, minlength=5).tolist()


def test_reference_ocean_graph_counts():
    """Stage 1/2 at 360x720, mesh level 5 (model-spec §4.5-4.7, §4.11)."""
    graph = build_graph(360, 720, 5, arithmetic=PORTABLE)
    assert graph_sizes(graph) == {
        "grid_nodes": 259200, "mesh_nodes": 10242, "mesh_edges": 81900,
        "g2m_edges": 403596, "m2g_edges": 777600,
    }
    assert graph["mesh_faces"].shape[0] == 27300
    assert _g2m_edges_per_grid_node(graph) == [0, 132444, 109116, 17640, 0]
    assert np.bincount(graph["mesh_dst"]).min() == 6
    assert reference_build_problems(graph, 5) == []


def test_reference_atmos_graph_counts():
    """OneForecast at 120x240, mesh level 5 with two local refinements (model-spec §4.8, §4.11)."""
    graph = build_graph(120, 240, 5, ATMOS_LOCAL_REFINEMENT, PORTABLE)
    assert graph_sizes(graph) == {
        "grid_nodes": 28800, "mesh_nodes": 12337, "mesh_edges": 98296,
        "g2m_edges": 49233, "m2g_edges": 86400,
    }
    assert graph["mesh_faces"].shape[0] == 51788
    assert _g2m_edges_per_grid_node(graph) == [0, 13509, 11506, 2428, 1357]
    assert graph["mesh_vertices"].shape[0] - np.unique(graph["m2g_src"]).size == 40
    # ... but none of them is the highest-numbered vertex, so the reference builds it.
    assert reference_build_problems(graph, 5, ATMOS_LOCAL_REFINEMENT) == []


# --- mesh sizes without the graphs; configurations the reference cannot build --------------------


# Refined vertex counts at levels 0..7 (spec §4.8/§4.11: 786 at level 3, 12 337 at level 5) and
# the faces each box selects (spec §4.8: 764 then 572 at level 5).
REFINED_COUNTS = [
    (15, (1, 0)), (56, (3, 3)), (206, (13, 9)), (786, (49, 34)), (3110, (195, 142)),
    (12337, (764, 572)), (49155, (3058, 2278)), (196189, (12202, 9114)),
]


def test_mesh_counts_without_building_the_graphs():
    assert [mesh_counts(level).vertices for level in range(8)] == [
        12, 42, 162, 642, 2562, 10242, 40962, 163842]
    assert [tuple(mesh_counts(level, ATMOS_LOCAL_REFINEMENT)) for level in range(8)] == \
        REFINED_COUNTS


@pytest.mark.parametrize("level", range(6))
def test_mesh_counts_equal_the_built_mesh_in_both_arithmetics(level):
    """The count the graph-file check expects is the built multimesh's, whichever arithmetic built
    it (no face centroid lies near a box edge)."""
    expected = REFINED_COUNTS[level]
    for arithmetic in (PORTABLE, REFERENCE):
        assert tuple(mesh_counts(level, ATMOS_LOCAL_REFINEMENT, arithmetic)) == expected
        built = build_multimesh(level, ATMOS_LOCAL_REFINEMENT, arithmetic)
        assert built.vertices.shape[0] == expected[0], arithmetic


def test_small_golden_configurations_are_buildable_by_the_reference():
    for case, refinement in CASES.items():
        graph = dict(np.load(GOLDEN / case / "graph.npz"))
        assert reference_build_problems(graph, 3, refinement) == [], case
        assert reference_build_problems(build_graph(32, 64, 3, refinement, PORTABLE), 3,
                                        refinement) == [], case


def test_refinement_box_without_faces_is_reported():
    """Level 0: box 2 (10..30 N, 95..35 W) holds no face centroid; the reference's split of no
    faces returns a 1-D empty array, and np.concatenate with the other faces raises ValueError."""
    graph = build_graph(16, 32, 0, ATMOS_LOCAL_REFINEMENT, PORTABLE)
    assert graph["mesh_vertices"].shape[0] == 15  # box 1 split one face: 3 new vertices
    assert reference_build_problems(graph, 0, ATMOS_LOCAL_REFINEMENT) == [
        "local refinement box 2 (lat 10..30, lon -95..-35) selects no face of the level-0 mesh "
        "(the reference's split returns an empty face array and merging it raises ValueError)"]
    assert reference_build_problems(build_graph(16, 32, 0, arithmetic=PORTABLE), 0) == []


def _dgl_message(graph_name, inferred, nodes):
    return (f"the reference's {graph_name} DGL graph infers {inferred} mesh nodes from its highest "
            f"index instead of {nodes} and raises DGLError")


def test_coarse_grid_for_the_mesh_is_reported():
    """The reference builds g2m/m2g with dgl.heterograph without num_nodes_dict: DGL counts the
    highest index + 1 nodes, and assigning all mesh vertex positions then fails."""
    graph = build_graph(24, 48, 4, ATMOS_LOCAL_REFINEMENT, PORTABLE)
    assert int(graph["g2m_dst"].max()) == 3109 and int(graph["m2g_src"].max()) == 3098
    assert reference_build_problems(graph, 4, ATMOS_LOCAL_REFINEMENT) == [
        "mesh vertex 3109 (the highest-numbered) sends no mesh->grid edge, so "
        + _dgl_message("m2g", 3099, 3110)]

    graph = build_graph(45, 90, 6, arithmetic=PORTABLE)
    assert reference_build_problems(graph, 6) == [
        "mesh vertex 40961 (the highest-numbered) gets no grid->mesh edge, so "
        + _dgl_message("g2m", 40953, 40962),
        "mesh vertex 40961 (the highest-numbered) sends no mesh->grid edge, so "
        + _dgl_message("m2g", 40955, 40962)]


def test_last_grid_node_without_g2m_edge_is_reported():
    graph = build_graph(32, 64, 3, arithmetic=PORTABLE)
    keep = graph["g2m_src"] != 2047
    graph["g2m_src"], graph["g2m_dst"] = graph["g2m_src"][keep], graph["g2m_dst"][keep]
    assert reference_build_problems(graph, 3) == [
        "grid node 2047 (the last) sends no grid->mesh edge, so the reference's g2m DGL graph "
        "infers 2047 grid nodes from its highest index instead of 2048 and raises DGLError"]


# --- the reference arithmetic mirrors the reference's calls ------------------------------------


def _reference_icosahedron():
    """The reference's get_icosahedron, written independently from its description (spec §4.3)."""
    from scipy.spatial import transform

    phi = (1 + np.sqrt(5)) / 2
    vertices = []
    for c1 in (1.0, -1.0):
        for c2 in (phi, -phi):
            vertices += [(c1, c2, 0.0), (0.0, c1, c2), (c2, 0.0, c1)]
    vertices = np.array(vertices, dtype=np.float32)
    vertices /= np.linalg.norm([1.0, phi])
    angle = (np.pi - 2 * np.arcsin(phi / np.sqrt(3))) / 2
    matrix = transform.Rotation.from_euler(seq="y", angles=angle).as_matrix()
    return np.dot(vertices, matrix).astype(np.float32)


def _reference_two_split(vertices, faces):
    """The reference's child-vertex bookkeeping: a dict keyed by the sorted parent pair, children
    created on first sight as mean(0) of the parents divided by np.linalg.norm of the child."""
    index, rows, new_faces = {}, list(vertices), []

    def child(a, b):
        key = tuple(sorted((a, b)))
        if key not in index:
            p = vertices[[a, b]].mean(0)
            p /= np.linalg.norm(p)
            index[key] = len(rows)
            rows.append(p)
        return index[key]

    for i1, i2, i3 in faces:
        i12, i23, i31 = child(i1, i2), child(i2, i3), child(i3, i1)
        new_faces += [[i1, i12, i31], [i12, i2, i23], [i31, i23, i3], [i12, i23, i31]]
    return np.array(rows), np.array(new_faces, dtype=np.int64)


def test_reference_arithmetic_equals_the_reference_calls_on_this_machine():
    """Whatever this machine's BLAS does, the default arithmetic makes the same calls as the
    reference and so gets the same bits (vertices) and the same faces."""
    meshes = mesh_hierarchy(3, REFERENCE)
    vertices, faces = _reference_icosahedron(), meshes[0].faces
    np.testing.assert_array_equal(meshes[0].vertices, vertices)
    for level in range(1, 4):
        vertices, faces = _reference_two_split(vertices, faces)
        assert vertices.dtype == np.float32
        np.testing.assert_array_equal(meshes[level].vertices, vertices, err_msg=f"level {level}")
        np.testing.assert_array_equal(meshes[level].faces, faces, err_msg=f"level {level}")


def test_arithmetics_differ_only_where_blas_sdot_differs_from_the_formula():
    """Level 1 from the (shared) icosahedron: a child vertex can differ between the arithmetics
    only where np.linalg.norm (BLAS sdot) differs from sqrt((x^2+y^2)+z^2). On a BLAS without
    FMA kernels the two therefore build the same mesh."""
    np.testing.assert_array_equal(icosahedron(REFERENCE).vertices, icosahedron(PORTABLE).vertices)
    base = icosahedron(PORTABLE)
    reference, portable = mesh_hierarchy(1, REFERENCE)[1], mesh_hierarchy(1, PORTABLE)[1]
    parents = []  # in order of first sight, as children are created
    for face in base.faces:
        for a, b in ((face[0], face[1]), (face[1], face[2]), (face[2], face[0])):
            if tuple(sorted((a, b))) not in parents:
                parents.append(tuple(sorted((a, b))))
    differing_norms = 0
    for k, (a, b) in enumerate(parents, start=base.vertices.shape[0]):
        p = base.vertices[[a, b]].mean(0)
        same_norm = np.linalg.norm(p) == np.sqrt((p[0] * p[0] + p[1] * p[1]) + p[2] * p[2])
        differing_norms += int(not same_norm)
        if same_norm:
            np.testing.assert_array_equal(reference.vertices[k], portable.vertices[k])
    differing_vertices = int(np.any(reference.vertices != portable.vertices, axis=1).sum())
    assert differing_vertices <= differing_norms


@pytest.mark.skipif(np.lib.NumpyVersion(np.__version__) >= "2.0.0",
                    reason="NumPy 2 divides the reference's float32 centroid sums in float32")
def test_centroids_agree_under_numpy1_promotion():
    mesh = mesh_hierarchy(2, PORTABLE)[-1]
    np.testing.assert_array_equal(face_centroids(mesh.vertices, mesh.faces, REFERENCE),
                                  face_centroids(mesh.vertices, mesh.faces, PORTABLE))


def test_unknown_arithmetic_is_rejected():
    with pytest.raises(ValueError, match="mesh arithmetic"):
        build_graph(8, 16, 1, arithmetic="fast")
