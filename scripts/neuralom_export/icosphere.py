"""Icosahedral meshes on the unit sphere, built exactly as the reference does (model-spec §4.3-4.8).

Every array is NumPy: vertices float32 ``[V, 3]``, faces int64 ``[F, 3]`` (counter-clockwise seen
from outside). The float32 arithmetic is spelled out step by step because the later
nearest-neighbour searches break ties on the last bit of these coordinates.
"""

from typing import List, NamedTuple, Sequence, Tuple

import numpy as np
import torch

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


def icosahedron() -> TriMesh:
    """Level-0 mesh: 12 vertices, 20 faces, rotated so that two faces are centred on the poles."""
    phi = (1.0 + np.sqrt(5.0)) / 2.0
    rows = []
    for a in (1.0, -1.0):
        for b in (phi, -phi):
            rows += [(a, b, 0.0), (0.0, a, b), (b, 0.0, a)]
    # The reference divides a float32 array by a float64 scalar in place; NumPy 1.x does that
    # division in float32, which we state explicitly so NumPy 2 gives the same bits.
    vertices = np.array(rows, dtype=np.float32) / np.float32(np.linalg.norm([1.0, phi]))
    # Rotation about the y axis (row vectors times R = [[c, 0, s], [0, 1, 0], [-s, 0, c]]) in
    # float64, written element-wise rather than with np.dot so no BLAS (and no FMA) is involved.
    alpha = (np.pi - 2.0 * np.arcsin(phi / np.sqrt(3.0))) / 2.0
    c, s = np.cos(alpha), np.sin(alpha)
    x, y, z = (vertices[:, k].astype(np.float64) for k in range(3))
    rotated = np.stack([x * c - z * s, y, x * s + z * c], axis=1)
    return TriMesh(rotated.astype(np.float32), np.array(_BASE_FACES, dtype=np.int64))


def _unit_rows(p: np.ndarray) -> np.ndarray:
    """Normalise float32 rows by sqrt((x^2 + y^2) + z^2), each step rounded to float32.

    The reference calls np.linalg.norm per vertex, i.e. BLAS sdot: a reference (netlib) BLAS
    gives exactly this, an FMA-using BLAS (OpenBLAS on AVX2/AVX-512) differs by 1 ulp on some
    vertices, which moves g2m/m2g edges. The golden graphs follow this formula; spelling it out
    keeps the graph independent of whichever BLAS NumPy happens to load.
    """
    norm = np.sqrt((p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1]) + p[:, 2] * p[:, 2])
    return p / norm[:, None]


def two_split(vertices: np.ndarray, faces: np.ndarray) -> TriMesh:
    """Split every face into four (spec §4.4).

    Child vertices are appended in the order in which their parent edge is first met while walking
    the faces in order and, per face, the edges (i1,i2), (i2,i3), (i3,i1). Existing vertices keep
    their indices; ``vertices`` may hold more vertices than ``faces`` uses (local refinement).
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
    midpoint = (vertices[lo] + vertices[hi]) / np.float32(2.0)
    new_vertices = np.concatenate([vertices, _unit_rows(midpoint)], axis=0).astype(np.float32)

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


def mesh_hierarchy(level: int) -> List[TriMesh]:
    """Meshes of levels 0..level; each level's vertices are a prefix of the next level's."""
    meshes = [icosahedron()]
    for _ in range(level):
        meshes.append(two_split(*meshes[-1]))
    return meshes


def face_centroids(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Un-projected centroids, float64 ``[F, 3]``: float32 sum of the corners, float64 division."""
    total = (vertices[faces[:, 0]] + vertices[faces[:, 1]]) + vertices[faces[:, 2]]
    return total.astype(np.float64) / 3.0


def xyz_to_latlon_deg(xyz: torch.Tensor) -> torch.Tensor:
    """Unit vectors ``[N, 3]`` float32 -> ``[N, 2]`` (lat, lon) in degrees, float32 torch ops."""
    lat = torch.arcsin(xyz[:, 2])
    lon = torch.arctan2(xyz[:, 1], xyz[:, 0])
    return torch.stack((lat * 180 / np.pi, lon * 180 / np.pi), dim=1)


def local_refine(
    mesh: TriMesh, lat_min: float, lat_max: float, lon_min: float, lon_max: float, splits: int
) -> TriMesh:
    """Split (``splits`` times) the faces whose centroid lies in the box, bounds inclusive.

    Returns the new vertices appended to the old ones and the faces ordered as
    [refined selected faces ..., unselected faces in their original order] (spec §4.8).
    """
    centroids = torch.from_numpy(face_centroids(mesh.vertices, mesh.faces).astype(np.float32))
    latlon = xyz_to_latlon_deg(centroids)
    lat, lon = latlon[:, 0], latlon[:, 1]
    selected = ((lat >= lat_min) & (lat <= lat_max) & (lon >= lon_min) & (lon <= lon_max)).numpy()
    local = TriMesh(mesh.vertices, mesh.faces[selected])
    for _ in range(splits):
        local = two_split(*local)
    return TriMesh(local.vertices, np.concatenate([local.faces, mesh.faces[~selected]], axis=0))


def build_multimesh(
    level: int, refinement: Sequence[Sequence[float]] = ()
) -> MultiMesh:
    """Multimesh of levels 0..``level`` plus, if ``refinement`` is given, the locally refined
    finest mesh (its faces are appended after all levels' faces, spec §4.5/§4.8)."""
    if level < 0:
        raise ValueError(f"mesh level must be >= 0, got {level}")
    meshes = mesh_hierarchy(level)
    finest = meshes[-1]
    faces = [m.faces for m in meshes]
    vertices = finest.vertices
    if refinement:
        refined = finest
        for spec in refinement:
            lat_min, lat_max, lon_min, lon_max, splits = spec
            refined = local_refine(refined, lat_min, lat_max, lon_min, lon_max, int(splits))
        faces.append(refined.faces)
        vertices = refined.vertices
    return MultiMesh(vertices, np.concatenate(faces, axis=0).astype(np.int64), finest)
