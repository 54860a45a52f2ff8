"""Command line of scripts/export_torchscript.py.

    export_torchscript.py --model stage1 --checkpoint best_ckpt.tar --out stage1.pt
    export_torchscript.py --model atmos --random-init --seed 0 --out atmos.pt \\
        --input-res 32 64 --mesh-level 3 --hidden-dim 32 --processor-layers 4

Progress goes to stderr. Exit codes: 0 success, 2 bad usage or input (arguments, checkpoint,
output location), 1 anything else.
"""

import argparse
import os
import sys
import time
import traceback
from typing import List, Optional

from .checkpoint import CheckpointError
from .config import MODEL_KINDS, default_config, make_config
from .export import export_model
from .graph_file import GraphFileError
from .icosphere import MESH_ARITHMETICS, PORTABLE, REFERENCE

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Bad command-line arguments or input files (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises UsageError instead of exiting, so ``main`` decides."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def _defaults_help() -> str:
    lines = ["reference defaults (used unless overridden):"]
    for kind in MODEL_KINDS:
        c = default_config(kind)
        lines.append(
            f"  {kind:7s} {c.reference_class:15s} {c.in_channels}->{c.out_channels} channels, "
            f"{c.input_res[0]}x{c.input_res[1]}, mesh level {c.mesh_level}, hidden {c.hidden_dim}, "
            f"{c.processor_layers} processor layers"
            + (", local refinement" if c.local_refinement else "")
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="export_torchscript.py",
        description="Export a NeuralOM network (reference checkpoint or random weights) as a "
        "TorchScript archive with neuralom.json metadata, for the neuralom C++ engine.",
        epilog=_defaults_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, choices=MODEL_KINDS,
                        help="stage1 (MIGraph), stage2 (MIGraph_stage2) or atmos (OneForecast)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", metavar="CKPT",
                        help="reference checkpoint (best_ckpt.tar); loaded strictly")
    source.add_argument("--random-init", action="store_true",
                        help="random weights (PyTorch default initialisation) instead of a checkpoint")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="seed of --random-init (default 0)")
    parser.add_argument("--out", required=True, metavar="OUT.pt", help="archive to write")
    parser.add_argument("--input-res", type=int, nargs=2, metavar=("H", "W"), help="grid rows, columns")
    parser.add_argument("--mesh-level", type=int, metavar="L", help="icosahedral mesh level")
    parser.add_argument("--hidden-dim", type=int, metavar="D", help="hidden width")
    parser.add_argument("--processor-layers", type=int, metavar="N",
                        help="processor layers in total (1 + N-2 + 1)")
    graph = parser.add_mutually_exclusive_group()
    graph.add_argument(
        "--mesh-arithmetic", choices=MESH_ARITHMETICS, default=None,
        help=f"how the mesh is rounded. '{REFERENCE}' (default) makes the reference's own library "
        "calls (np.linalg.norm per vertex, i.e. BLAS sdot, ...): the graph the reference code "
        "builds on this machine with this NumPy/BLAS. "
        f"'{PORTABLE}' writes every rounding step out element-wise: the same graph on every "
        "machine (the golden cases' graph; a BLAS with FMA kernels can differ from it by 1 ulp "
        "on some vertices, which moves grid<->mesh edges)")
    graph.add_argument(
        "--graph", metavar="FILE.npz",
        help="take the graph arrays from FILE.npz (the golden graph.npz keys, e.g. saved from a "
        "reference model by scripts/save_reference_graph.py) instead of building them; checked "
        "against the model configuration")
    return parser


def _check_output(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"--out {path} is a directory; give a file name such as {path}/model.pt")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"--out {path}: directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--out {path}: directory {directory} is not writable")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parsed and checked arguments; raises UsageError."""
    args = build_parser().parse_args(argv)
    if args.seed is not None and not args.random_init:
        raise UsageError("--seed only applies to --random-init")
    if args.random_init and args.seed is None:
        args.seed = 0
    if args.checkpoint is not None and not os.path.isfile(args.checkpoint):
        raise UsageError(f"--checkpoint {args.checkpoint}: no such file")
    _check_output(args.out)
    try:
        args.config = make_config(
            args.model,
            input_res=args.input_res,
            mesh_level=args.mesh_level,
            hidden_dim=args.hidden_dim,
            processor_layers=args.processor_layers,
            mesh_arithmetic=args.mesh_arithmetic,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    return args


def _log(message: str) -> None:
    print(f"export: {message}", file=sys.stderr, flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Run the exporter; returns the exit code (never raises, except SystemExit from --help)."""
    start = time.perf_counter()
    try:
        args = parse_args(argv)
        result = export_model(
            args.config,
            args.out,
            checkpoint=args.checkpoint,
            seed=args.seed if args.random_init else None,
            log=_log,
            graph_file=args.graph,
        )
    except UsageError as exc:
        print(f"error: {exc}\n(see --help)", file=sys.stderr)
        return EXIT_USAGE
    except (CheckpointError, GraphFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug: keep the traceback
        traceback.print_exc()
        return EXIT_FAILURE
    _log(f"done: {result.path} ({result.size_bytes / 2**20:.1f} MiB) "
         f"in {time.perf_counter() - start:.1f} s")
    return EXIT_OK
