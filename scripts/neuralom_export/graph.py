"""Grid, mesh, grid->mesh and mesh->grid graphs with their static features (model-spec §4).

``build_graph`` returns NumPy arrays named like ``graph.npz`` of the golden cases. The
arithmetic follows the reference operation by operation (torch float32 for the trigonometry and
the per-edge rotations, NumPy float32 for the mesh, scikit-learn's KD-tree for the nearest
neighbours) because index arrays depend on exact ties (spec §4.7).
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from .icosphere import (
    REFERENCE, MultiMesh, build_multimesh, check_arithmetic, face_centroids, mesh_counts,
)

GraphArrays = Dict[str, np.ndarray]

G2M_NEIGHBOURS = 4
G2M_RADIUS_FACTOR = 0.6


def grid_latlon(height: int, width: int) -> torch.Tensor:
    """``[H*W, 2]`` float32 (lat, lon) in degrees of grid node ``r*W + c``.

    Row 0 is labelled -90 deg (the +90 end is dropped), column 0 is -180 + 360/W (the -180 end is
    dropped), whatever the data's real orientation: the trained weights depend on this labelling.
    """
    lat = torch.linspace(-90, 90, steps=height + 1)[:-1]
    lon = torch.linspace(-180, 180, steps=width + 1)[1:]
    mesh = torch.stack(torch.meshgrid(lat, lon, indexing="ij"), dim=-1)
    return mesh.permute(2, 0, 1).reshape(2, -1).permute(1, 0).contiguous()


def latlon_to_xyz(latlon_deg: torch.Tensor) -> torch.Tensor:
    """``[N, 2]`` degrees -> ``[N, 3]`` unit vectors (float32 torch ops, as the reference)."""
    rad = latlon_deg * np.pi / 180
    lat, lon = rad[:, 0], rad[:, 1]
    x = 1 * torch.cos(lat) * torch.cos(lon)
    y = 1 * torch.cos(lat) * torch.sin(lon)
    z = 1 * torch.sin(lat)
    return torch.stack((x, y, z), dim=1)


def _xyz_to_latlon_rad(xyz: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    return torch.arcsin(xyz[:, 2] / 1), torch.arctan2(xyz[:, 1], xyz[:, 0])


def mesh_node_features(vertices: torch.Tensor) -> torch.Tensor:
    """``[N, 3]`` = [cos(lat), sin(lon), cos(lon)] with lat/lon in *degrees* fed to radian trig
    functions (a reference quirk the trained weights depend on, spec §4.9)."""
    lat, lon = _xyz_to_latlon_rad(vertices)
    lat = lat * 180 / np.pi
    lon = lon * 180 / np.pi
    return torch.stack((torch.cos(lat), torch.sin(lon), torch.cos(lon)), dim=-1)


def _rotate(points: torch.Tensor, theta: torch.Tensor, axis: str) -> torch.Tensor:
    """Rotate each row of ``points`` ``[E, 3]`` by its own angle about the z or y axis."""
    cos, sin = torch.cos(theta), torch.sin(theta)
    rotation = torch.zeros((theta.size(0), 3, 3))
    if axis == "z":
        rotation[:, 0, 0] += cos
        rotation[:, 0, 1] -= sin
        rotation[:, 1, 0] += sin
        rotation[:, 1, 1] += cos
        rotation[:, 2, 2] += 1.0
    else:
        rotation[:, 0, 0] += cos
        rotation[:, 0, 2] += sin
        rotation[:, 1, 1] += 1.0
        rotation[:, 2, 0] -= sin
        rotation[:, 2, 2] += cos
    return torch.matmul(rotation, points.unsqueeze(-1)).squeeze(-1)


def edge_features(
    src_pos: torch.Tensor, dst_pos: torch.Tensor, src: np.ndarray, dst: np.ndarray
) -> torch.Tensor:
    """``[E, 4]`` float32: displacement of the source in the destination's local frame, and its
    length, all divided by the longest displacement of this edge set (spec §4.10)."""
    p_src = src_pos[torch.from_numpy(src)]
    p_dst = dst_pos[torch.from_numpy(dst)]
    lat, lon = _xyz_to_latlon_rad(p_dst)
    theta_z = torch.where(lon >= 0.0, 2 * np.pi - lon, -lon)
    theta_y = torch.where(lat >= 0.0, lat, 2 * np.pi + lat)
    p_src = _rotate(_rotate(p_src, theta_z, "z"), theta_y, "y")
    p_dst = _rotate(_rotate(p_dst, theta_z, "z"), theta_y, "y")
    disp = p_src - p_dst
    length = torch.linalg.norm(disp, dim=-1, keepdim=True)
    longest = torch.max(length)
    return torch.cat((disp / longest, length / longest), dim=-1)


def mesh_edges(faces: np.ndarray, num_vertices: int) -> Tuple[np.ndarray, np.ndarray]:
    """Directed edges of every face in both directions, duplicates removed, sorted by (src, dst)
    (what DGL's ``to_bidirected`` yields, spec §4.5)."""
    src = np.concatenate([faces[:, 0], faces[:, 1], faces[:, 2]])
    dst = np.concatenate([faces[:, 1], faces[:, 2], faces[:, 0]])
    key = np.unique(np.concatenate([src * num_vertices + dst, dst * num_vertices + src]))
    return key // num_vertices, key % num_vertices


def g2m_radius(
    finest_vertices: np.ndarray, finest_faces: np.ndarray, arithmetic: str = REFERENCE
) -> float:
    """0.6 x the longest edge of the unrefined finest level (float32 length).

    Reference: ``0.6 * np.float32`` as the reference writes it (a float64 product under NumPy
    1.x, float32 under NumPy 2); portable: the float64 product."""
    src = np.concatenate([finest_faces[:, 0], finest_faces[:, 1], finest_faces[:, 2]])
    dst = np.concatenate([finest_faces[:, 1], finest_faces[:, 2], finest_faces[:, 0]])
    squared = np.sum((finest_vertices[src] - finest_vertices[dst]) ** 2, axis=1)
    longest = np.sqrt(np.max(squared))
    if check_arithmetic(arithmetic) == REFERENCE:
        return float(G2M_RADIUS_FACTOR * longest)
    return G2M_RADIUS_FACTOR * float(longest)


def g2m_edges(
    grid_xyz: np.ndarray, mesh_vertices: np.ndarray, radius: float
) -> Tuple[np.ndarray, np.ndarray]:
    """Each grid node -> those of its 4 nearest mesh vertices within ``radius`` (spec §4.6).
    Order: grid node ascending, then neighbour rank (increasing distance)."""
    search = NearestNeighbors(n_neighbors=G2M_NEIGHBOURS).fit(mesh_vertices)
    distance, index = search.kneighbors(grid_xyz)
    rows, ranks = np.nonzero(distance <= radius)
    return rows.astype(np.int64), index[rows, ranks].astype(np.int64)


def m2g_edges(
    grid_xyz: np.ndarray, mesh_vertices: np.ndarray, faces: np.ndarray, arithmetic: str = REFERENCE
) -> Tuple[np.ndarray, np.ndarray]:
    """The three corners of the face whose centroid is nearest to each grid node -> the node
    (spec §4.7). Ties are resolved by scikit-learn's KD-tree, as in the reference."""
    search = NearestNeighbors(n_neighbors=1).fit(face_centroids(mesh_vertices, faces, arithmetic))
    _, index = search.kneighbors(grid_xyz)
    src = faces[index[:, 0]].reshape(-1).astype(np.int64)
    dst = np.repeat(np.arange(grid_xyz.shape[0], dtype=np.int64), 3)
    return src, dst


def build_graph(
    height: int,
    width: int,
    mesh_level: int,
    refinement: Optional[Sequence[Sequence[float]]] = None,
    arithmetic: str = REFERENCE,
) -> GraphArrays:
    """Build every graph array of a model with an ``height x width`` grid (spec §4).

    ``arithmetic`` (``icosphere.MESH_ARITHMETICS``): ``reference`` mirrors the reference's
    library calls (the graph the reference builds on this machine), ``portable`` gives the same
    graph on every machine (the golden cases' graph). The torch float32 trigonometry and the
    scikit-learn KD-tree are the reference's calls in both.

    Returns (NumPy; indices int64, grid index = row*W + col; features float32):
      grid_latlon [N_g, 2] (deg), mesh_vertices [N_m, 3], mesh_faces [F, 3],
      mesh_src/mesh_dst [E_m], g2m_src (grid)/g2m_dst (mesh) [E_g2m],
      m2g_src (mesh)/m2g_dst (grid) [E_m2g], mesh_node_features [N_m, 3],
      mesh_edge_features [E_m, 4], g2m_edge_features [E_g2m, 4], m2g_edge_features [E_m2g, 4].
    """
    if height < 1 or width < 1:
        raise ValueError(f"grid must be at least 1x1, got {height}x{width}")
    multimesh: MultiMesh = build_multimesh(mesh_level, refinement or (), arithmetic)
    vertices = multimesh.vertices
    latlon = grid_latlon(height, width)
    grid_xyz = latlon_to_xyz(latlon)
    mesh_pos = torch.from_numpy(vertices)

    mesh_src, mesh_dst = mesh_edges(multimesh.faces, vertices.shape[0])
    radius = g2m_radius(multimesh.finest.vertices, multimesh.finest.faces, arithmetic)
    g2m_src, g2m_dst = g2m_edges(grid_xyz.numpy(), vertices, radius)
    m2g_src, m2g_dst = m2g_edges(grid_xyz.numpy(), vertices, multimesh.faces, arithmetic)

    return {
        "grid_latlon": latlon.numpy(),
        "mesh_vertices": vertices,
        "mesh_faces": multimesh.faces,
        "mesh_src": mesh_src,
        "mesh_dst": mesh_dst,
        "g2m_src": g2m_src,
        "g2m_dst": g2m_dst,
        "m2g_src": m2g_src,
        "m2g_dst": m2g_dst,
        "mesh_node_features": mesh_node_features(mesh_pos).numpy(),
        "mesh_edge_features": edge_features(mesh_pos, mesh_pos, mesh_src, mesh_dst).numpy(),
        "g2m_edge_features": edge_features(grid_xyz, mesh_pos, g2m_src, g2m_dst).numpy(),
        "m2g_edge_features": edge_features(mesh_pos, grid_xyz, m2g_src, m2g_dst).numpy(),
    }


def graph_sizes(graph: GraphArrays) -> Dict[str, int]:
    """The counts written into the export metadata."""
    return {
        "grid_nodes": int(graph["grid_latlon"].shape[0]),
        "mesh_nodes": int(graph["mesh_vertices"].shape[0]),
        "mesh_edges": int(graph["mesh_src"].shape[0]),
        "g2m_edges": int(graph["g2m_src"].shape[0]),
        "m2g_edges": int(graph["m2g_src"].shape[0]),
    }


def _inferred_nodes(index: np.ndarray) -> int:
    """The node count DGL infers for one node type of a graph built from edge lists without
    ``num_nodes``: the highest index + 1 (0 without edges)."""
    return int(index.max()) + 1 if index.size else 0


def reference_build_problems(
    graph: GraphArrays, mesh_level: int, refinement: Optional[Sequence[Sequence[float]]] = None
) -> List[str]:
    """Why the reference code cannot build the model of ``graph`` (empty list: it can).

    The reference raises while constructing such a model, so no reference run, and no checkpoint
    the reference trained at this configuration, corresponds to it (the weights themselves do not
    depend on the graph, so any checkpoint of the same widths still loads). Conditions:

    * a local refinement box with extra splits selects no face (``mesh_counts``): the reference's
      split then returns an empty 1-D face array and its merge with the other faces raises
      ValueError (e.g. box 2 at mesh level 0);
    * the highest-numbered mesh vertex (or the last grid node) has no g2m edge, or the highest mesh
      vertex sends no m2g edge: the reference builds these graphs with ``dgl.heterograph`` without
      ``num_nodes_dict``, so DGL infers the highest index + 1 nodes, and assigning all node
      positions then raises DGLError (coarse grids for the mesh: e.g. 24x48 at level 4).
      Vertices below the highest one without edges are harmless (the real OneForecast has 40 that
      send no m2g edge). The mesh graph's own node count is always right: every vertex is a
      corner of a face.
    """
    problems: List[str] = []
    if refinement:
        selected = mesh_counts(mesh_level, refinement).selected_faces
        for number, (spec, faces) in enumerate(zip(refinement, selected), start=1):
            lat_min, lat_max, lon_min, lon_max, splits = spec
            if faces == 0 and int(splits) >= 1:
                problems.append(
                    f"local refinement box {number} (lat {lat_min:g}..{lat_max:g}, lon "
                    f"{lon_min:g}..{lon_max:g}) selects no face of the level-{mesh_level} mesh "
                    "(the reference's split returns an empty face array and merging it raises "
                    "ValueError)")
    mesh_nodes = int(graph["mesh_vertices"].shape[0])
    grid_nodes = int(graph["grid_latlon"].shape[0])
    checks = (
        ("g2m_dst", mesh_nodes, "mesh", f"mesh vertex {mesh_nodes - 1} (the highest-numbered) "
         "gets no grid->mesh edge", "g2m"),
        ("g2m_src", grid_nodes, "grid", f"grid node {grid_nodes - 1} (the last) sends no "
         "grid->mesh edge", "g2m"),
        ("m2g_src", mesh_nodes, "mesh", f"mesh vertex {mesh_nodes - 1} (the highest-numbered) "
         "sends no mesh->grid edge", "m2g"),
    )
    for key, nodes, kind, what, name in checks:
        inferred = _inferred_nodes(graph[key])
        if inferred != nodes:
            problems.append(
                f"{what}, so the reference's {name} DGL graph infers {inferred} {kind} nodes "
                f"from its highest index instead of {nodes} and raises DGLError")
    return problems
