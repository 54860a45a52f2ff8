#!/usr/bin/env python3
"""Save the static graph of a *reference* NeuralOM model instance to an .npz file.

Run this in the reference's own Python environment (its DGL, NumPy, BLAS, torch), on the
machine whose graph you want to carry, from anywhere:

    python save_reference_graph.py --reference-repo /path/to/NeuralOM --model stage1 \\
        --out graph_stage1.npz [--input-res 360 720] [--mesh-level 5]

then export anywhere with that exact graph:

    python3 scripts/export_torchscript.py --model stage1 --checkpoint best_ckpt.tar \\
        --graph graph_stage1.npz --out stage1.pt

Why: the reference builds its mesh with NumPy/BLAS calls whose last-bit rounding depends on the
machine's BLAS kernels (model-spec §4.4); near-tie grid nodes then get other grid<->mesh edges.
The exporter mirrors those calls by default (the same graph as the reference on the machine that
exports), and this file carries the graph of another machine.

The graph does not depend on the network's width or depth, so the model is instantiated with
small ones (fast, little memory). Nothing of the reference is modified; its classes are imported
from --reference-repo. The arrays and their names are those of neuralom's graph files
(``neuralom_export/graph_file.py``): indices int64, features float32.
"""

import argparse
import os
import sys
import tempfile

import numpy as np

REFERENCE_CLASSES = {
    "stage1": ("networks.MIGNN1", "MIGraph", 101, 93),
    "stage2": ("networks.MIGNN2", "MIGraph_stage2", 93, 93),
    "atmos": ("networks.OneForecast", "OneForecast", 69, 69),
}
DEFAULT_RES = {"stage1": (360, 720), "stage2": (360, 720), "atmos": (120, 240)}


def _numpy(tensor, dtype):
    return np.ascontiguousarray(tensor.detach().cpu().numpy(), dtype=dtype)


def graph_arrays(model) -> dict:
    """The graph arrays of a reference model instance (``MIGraph``, ``MIGraph_stage2`` or
    ``OneForecast``): its ``graph`` (mesh geometry, grid coordinates) and its three DGL graphs
    (edges in DGL's order, edge and node features as the model uses them)."""
    arrays = {
        "grid_latlon": _numpy(model.graph.lat_lon_grid_flat, np.float32),
        "mesh_vertices": np.asarray(model.graph.mesh_vertices, dtype=np.float32),
        "mesh_faces": np.asarray(model.graph.mesh_faces, dtype=np.int64),
    }
    for prefix, dgl_graph in (("mesh", model.mesh_graph), ("g2m", model.g2m_graph),
                              ("m2g", model.m2g_graph)):
        src, dst = dgl_graph.edges()
        arrays[f"{prefix}_src"] = _numpy(src, np.int64)
        arrays[f"{prefix}_dst"] = _numpy(dst, np.int64)
        arrays[f"{prefix}_edge_features"] = _numpy(dgl_graph.edata["x"], np.float32)
    arrays["mesh_node_features"] = _numpy(model.mesh_graph.ndata["x"], np.float32)
    return arrays


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference-repo", required=True, help="checkout of the NeuralOM reference")
    parser.add_argument("--model", required=True, choices=sorted(REFERENCE_CLASSES))
    parser.add_argument("--out", required=True, help="the .npz to write")
    parser.add_argument("--input-res", type=int, nargs=2, metavar=("H", "W"))
    parser.add_argument("--mesh-level", type=int, default=5)
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.abspath(args.reference_repo))
    module_name, class_name, c_in, c_out = REFERENCE_CLASSES[args.model]
    module = __import__(module_name, fromlist=[class_name])
    height, width = args.input_res or DEFAULT_RES[args.model]
    model = getattr(module, class_name)(
        None, mesh_level=args.mesh_level, input_res=(height, width),
        input_dim_grid_nodes=c_in, output_dim_grid_nodes=c_out,
        hidden_dim=8, processor_layers=3,
    )
    arrays = graph_arrays(model)

    directory = os.path.dirname(os.path.abspath(args.out))
    handle, temporary = tempfile.mkstemp(prefix=".graph-", suffix=".npz", dir=directory)
    with os.fdopen(handle, "wb") as out:
        np.savez(out, **arrays)
    os.replace(temporary, args.out)
    print(f"wrote {args.out}: {arrays['mesh_vertices'].shape[0]} mesh vertices, "
          f"{arrays['mesh_src'].size} mesh, {arrays['g2m_src'].size} g2m, "
          f"{arrays['m2g_src'].size} m2g edges", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
