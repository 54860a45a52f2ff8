"""Icosahedral meshes on the unit sphere, built exactly as the reference does (model-spec §4.3-4.8).

Every array is NumPy: vertices float32 ``[V, 3]``, faces int64 ``[F, 3]`` (counter-clockwise seen
from outside). The later nearest-neighbour searches break ties on the last bit of these
coordinates, so *how* each number is rounded matters. Two arithmetics are offered:

``reference`` (default)
    the reference's own library calls, one for one: ``np.linalg.norm`` per new vertex (BLAS
    ``sdot``), ``np.linalg.norm([1, phi])`` (BLAS ``ddot``), SciPy's rotation matrix applied
    with ``np.dot`` (BLAS ``dgemm``), per-face centroids with NumPy scalar arithmetic. The mesh
    then equals the one the reference code builds on the same machine with the same NumPy and
    BLAS, whatever that BLAS's kernels round like (an FMA ``sdot`` differs from the plain formula
    by 1 ulp on ~10 % of the vertices, which moves grid<->mesh edges, model-spec §4.4).
``portable``
    the same quantities with every rounding step written out in NumPy element-wise float32 /
    float64 operations that involve no BLAS and no NumPy-version-dependent scalar promotion:
    the same mesh on every machine. This equals ``reference`` on a machine whose BLAS does not
    use FMA (where the golden cases were made) and with NumPy 1.x's promotion rules.
"""

from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
import torch

REFERENCE = "reference"
PORTABLE = "portable"
MESH_ARITHMETICS = (REFERENCE, PORTABLE)

# (lat_min, lat_max, lon_min, lon_max, extra_splits) in degrees, applied in this order (spec §4.8).
ATMOS_LOCAL_REFINEMENT: Tuple[Tuple[float, float, float, float, int], ...] = (
    (0.0, 30.0, 105.0, 160.0, 1),
    (10.0, 30.0, -95.0, -35.0, 1),
)

_BASE_FACES = (
    (0, 1, 2), (0, 6, 1), (8, 0, 2), (8, 4, 0), (3, 8, 2), (3, 2, 7), (7, 2, 1), (0, 4, 6),
    (4, 11, 6), (6, 11, 5), (1, 5, 7), (4, 10, 11), (4, 8, 10), (10, 8, 3), (10, 3, 9),
    (11, 10, 9), (11, 9, 5), (5, 9, 7), (9, 3, 7), (1, 6, 5),
)


class TriMesh(NamedTuple):
    vertices: np.ndarray  # float32 [V, 3], unit vectors
    faces: np.ndarray  # int64 [F, 3]


class MultiMesh(NamedTuple):
    vertices: np.ndarray  # float32 [V, 3]: finest level (+ local refinement) vertices
    faces: np.ndarray  # int64 [F, 3]: faces of every level, then the refined finest faces
    finest: TriMesh  # the unrefined finest level (its edges set the g2m radius)


def check_arithmetic(arithmetic: str) -> str:
    """``arithmetic`` if it names one of MESH_ARITHMETICS, else ValueError."""
    if arithmetic not in MESH_ARITHMETICS:
        raise ValueError(
            f"unknown mesh arithmetic {arithmetic!r}; expected one of {', '.join(MESH_ARITHMETICS)}"
        )
    return arithmetic


def _rotation_angle(phi: float) -> float:
    """The y-axis rotation that centres two faces on the poles (spec §4.3), float64 radians."""
    return (np.pi - 2 * np.arcsin(phi / np.sqrt(3))) / 2


def icosahedron(arithmetic: str = REFERENCE) -> TriMesh:
    """Level-0 mesh: 12 vertices, 20 faces, rotated so that two faces are centred on the poles."""
    check_arithmetic(arithmetic)
    phi = (1 + np.sqrt(5)) / 2
    rows = []
    for a in (1.0, -1.0):
        for b in (phi, -phi):
            rows += [(a, b, 0.0), (0.0, a, b), (b, 0.0, a)]
    vertices = np.array(rows, dtype=np.float32)
    faces = np.array(_BASE_FACES, dtype=np.int64)
    if arithmetic == REFERENCE:
        # The reference's calls: an in-place division by a BLAS-computed float64 norm (NumPy's
        # promotion rules decide the precision), then SciPy's matrix applied with np.dot.
        from scipy.spatial.transform import Rotation

        vertices /= np.linalg.norm([1.0, phi])
        matrix = Rotation.from_euler(seq="y", angles=_rotation_angle(phi)).as_matrix()
        return TriMesh(np.dot(vertices, matrix).astype(np.float32), faces)
    # Portable: the division in float32 (what NumPy 1.x does with that in-place division), the
    # norm and the rotation x' = x c - z s, z' = x s + z c element-wise in float64 (no BLAS).
    vertices = vertices / np.float32(np.sqrt(1.0 + phi * phi))
    alpha = _rotation_angle(phi)
    c, s = np.cos(alpha), np.sin(alpha)
    x, y, z = (vertices[:, k].astype(np.float64) for k in range(3))
    rotated = np.stack([x * c - z * s, y, x * s + z * c], axis=1)
    return TriMesh(rotated.astype(np.float32), faces)


def _unit_rows(p: np.ndarray) -> np.ndarray:
    """Portable: normalise float32 rows by sqrt((x^2 + y^2) + z^2), each step rounded to float32.

    This is what BLAS ``sdot`` computes without FMA (a reference netlib BLAS, or the machine where
    the golden cases were made); written element-wise it is the same on every machine.
    """
    norm = np.sqrt((p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1]) + p[:, 2] * p[:, 2])
    return p / norm[:, None]


def _unit_rows_reference(p: np.ndarray) -> np.ndarray:
    """Reference: ``row /= np.linalg.norm(row)`` one vertex at a time, as the reference's child
    vertex builder does, so the norm goes through whatever BLAS ``sdot`` NumPy has loaded."""
    out = np.array(p, dtype=np.float32, copy=True)
    for row in out:
        row /= np.linalg.norm(row)
    return out


def two_split(vertices: np.ndarray, faces: np.ndarray, arithmetic: str = REFERENCE) -> TriMesh:
    """Split every face into four (spec §4.4).

    Child vertices are appended in the order in which their parent edge is first met while walking
    the faces in order and, per face, the edges (i1,i2), (i2,i3), (i3,i1). Existing vertices keep
    their indices; ``vertices`` may hold more vertices than ``faces`` uses (local refinement).
    A child is the float32 mean of its parents normalised to unit length (``arithmetic``).
    """
    n = vertices.shape[0]
    faces = np.asarray(faces, dtype=np.int64)
    a = faces.reshape(-1)  # i1, i2, i3 of face 0, then face 1, ...
    b = faces[:, [1, 2, 0]].reshape(-1)  # i2, i3, i1
    key = np.minimum(a, b) * n + np.maximum(a, b)
    unique_keys, first_seen, occurrence = np.unique(key, return_index=True, return_inverse=True)
    creation_order = np.argsort(first_seen, kind="stable")
    rank = np.empty_like(creation_order)
    rank[creation_order] = np.arange(creation_order.size)
    child = (n + rank[occurrence]).reshape(-1, 3)  # columns: i12, i23, i31

    parents = unique_keys[creation_order]
    lo, hi = parents // n, parents % n
    # The reference's ``vertices[[a, b]].mean(0)``: a float32 sum and a float32 division by 2.
    midpoint = (vertices[lo] + vertices[hi]) / np.float32(2.0)
    unit = _unit_rows_reference if check_arithmetic(arithmetic) == REFERENCE else _unit_rows
    new_vertices = np.concatenate([vertices, unit(midpoint)], axis=0).astype(np.float32)

    i1, i2, i3 = faces[:, 0], faces[:, 1], faces[:, 2]
    i12, i23, i31 = child[:, 0], child[:, 1], child[:, 2]
    new_faces = np.stack(
        [
            np.stack([i1, i12, i31], axis=1),
            np.stack([i12, i2, i23], axis=1),
            np.stack([i31, i23, i3], axis=1),
            np.stack([i12, i23, i31], axis=1),
        ],
        axis=1,
    ).reshape(-1, 3)
    return TriMesh(new_vertices, new_faces)


def mesh_hierarchy(level: int, arithmetic: str = REFERENCE) -> List[TriMesh]:
    """Meshes of levels 0..level; each level's vertices are a prefix of the next level's."""
    meshes = [icosahedron(arithmetic)]
    for _ in range(level):
        meshes.append(two_split(*meshes[-1], arithmetic))
    return meshes


def face_centroids(
    vertices: np.ndarray, faces: np.ndarray, arithmetic: str = REFERENCE
) -> np.ndarray:
    """Un-projected face centroids ``[F, 3]`` (spec §4.7), float64.

    Reference: the reference's per-face loop over NumPy float32 scalars, ``(v0 + v1 + v2) / 3``,
    whose precision NumPy's scalar promotion decides (float64 division under NumPy 1.x, float32
    under NumPy 2). Portable: float32 sums and a float64 division, as NumPy 1.x does.
    """
    if check_arithmetic(arithmetic) == PORTABLE:
        total = (vertices[faces[:, 0]] + vertices[faces[:, 1]]) + vertices[faces[:, 2]]
        return total.astype(np.float64) / 3.0
    centroids = []
    for face in faces:
        v0, v1, v2 = vertices[face[0]], vertices[face[1]], vertices[face[2]]
        centroids.append(tuple((v0[k] + v1[k] + v2[k]) / 3 for k in range(3)))
    return np.array(centroids).astype(np.float64).reshape(-1, 3)


def xyz_to_latlon_deg(xyz: torch.Tensor) -> torch.Tensor:
    """Unit vectors ``[N, 3]`` float32 -> ``[N, 2]`` (lat, lon) in degrees, float32 torch ops."""
    lat = torch.arcsin(xyz[:, 2])
    lon = torch.arctan2(xyz[:, 1], xyz[:, 0])
    return torch.stack((lat * 180 / np.pi, lon * 180 / np.pi), dim=1)


def box_selection(
    mesh: TriMesh,
    lat_min: float,
    lat_max: float,
    lon_min: float,
    lon_max: float,
    arithmetic: str = REFERENCE,
) -> np.ndarray:
    """Boolean mask ``[F]`` of the faces whose centroid (float32, spec §4.8 step 1) lies in the
    box, bounds inclusive."""
    centroids = face_centroids(mesh.vertices, mesh.faces, arithmetic)
    centroids = torch.from_numpy(centroids.astype(np.float32))
    latlon = xyz_to_latlon_deg(centroids)
    lat, lon = latlon[:, 0], latlon[:, 1]
    return ((lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)).numpy()


def local_refine(
    mesh: TriMesh, selected: np.ndarray, splits: int, arithmetic: str = REFERENCE
) -> TriMesh:
    """Split (``splits`` times) the faces marked in ``selected`` (``box_selection``: those whose
    centroid lies in a box).

    Returns the new vertices appended to the old ones and the faces ordered as
    [refined selected faces ..., unselected faces in their original order] (spec §4.8).
    """
    local = TriMesh(mesh.vertices, mesh.faces[selected])
    for _ in range(splits):
        local = two_split(*local, arithmetic)
    return TriMesh(local.vertices, np.concatenate([local.faces, mesh.faces[~selected]], axis=0))


def build_multimesh(
    level: int, refinement: Sequence[Sequence[float]] = (), arithmetic: str = REFERENCE
) -> MultiMesh:
    """Multimesh of levels 0..``level`` plus, if ``refinement`` is given, the locally refined
    finest mesh (its faces are appended after all levels' faces, spec §4.5/§4.8)."""
    if level < 0:
        raise ValueError(f"mesh level must be >= 0, got {level}")
    meshes = mesh_hierarchy(level, arithmetic)
    finest = meshes[-1]
    faces = [m.faces for m in meshes]
    vertices = finest.vertices
    if refinement:
        refined, _ = refine_locally(finest, refinement, arithmetic)
        faces.append(refined.faces)
        vertices = refined.vertices
    return MultiMesh(vertices, np.concatenate(faces, axis=0).astype(np.int64), finest)


def refine_locally(
    finest: TriMesh, refinement: Sequence[Sequence[float]], arithmetic: str = REFERENCE
) -> Tuple[TriMesh, Tuple[int, ...]]:
    """``finest`` refined by each ``(lat_min, lat_max, lon_min, lon_max, splits)`` box in turn
    (spec §4.8), and how many faces each box selected (from the mesh the previous boxes left)."""
    refined, selected = finest, []
    for lat_min, lat_max, lon_min, lon_max, splits in refinement:
        faces = box_selection(refined, lat_min, lat_max, lon_min, lon_max, arithmetic)
        selected.append(int(np.count_nonzero(faces)))
        refined = local_refine(refined, faces, int(splits), arithmetic)
    return refined, tuple(selected)


class MeshCounts(NamedTuple):
    vertices: int  # mesh vertices: the finest level's, plus those local refinement adds
    selected_faces: Tuple[int, ...]  # faces selected by each local refinement box, in order


def mesh_counts(
    level: int, refinement: Sequence[Sequence[float]] = (), arithmetic: str = PORTABLE
) -> MeshCounts:
    """The vertex count of the mesh that ``build_multimesh(level, refinement)`` returns, and the
    faces each refinement box selects, without the multimesh faces or any grid graph (cheap:
    ~0.01 s at level 5, ~0.2 s at level 7 with the vectorised portable arithmetic).

    Unrefined: ``10 * 4**level + 2``. Refined, the count follows from which face centroids fall
    in the boxes. For the reference boxes (ATMOS_LOCAL_REFINEMENT) no centroid lies within
    9e-4 deg of a box edge up to level 6 (3e-5 deg at level 7), far more than the 1-ulp vertex
    differences between arithmetics, BLAS builds or torch versions move a centroid (~3e-6 deg),
    so the count is the same wherever the mesh is built: 15, 56, 206, 786, 3110, 12337, 49155,
    196189 at levels 0..7 with both arithmetics, torch 1.13 and 2.x (tests/python/test_graph.py
    checks levels 0..5 against the reference arithmetic).
    """
    if level < 0:
        raise ValueError(f"mesh level must be >= 0, got {level}")
    if not refinement:
        return MeshCounts(10 * 4 ** level + 2, ())
    finest = mesh_hierarchy(level, arithmetic)[-1]
    refined, selected = refine_locally(finest, refinement, arithmetic)
    return MeshCounts(int(refined.vertices.shape[0]), selected)
