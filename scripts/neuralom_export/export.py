"""Scripting a network, describing it (``neuralom.json``) and writing the TorchScript archive.

The archive holds ``forward(x: [B, C_in, H, W]) -> [B, C_out, H, W]`` plus the exported methods
``build_static_cache``, ``clear_static_cache``, ``set_edge_chunk`` (see ``network.py``) and the
extra file ``neuralom.json`` read by the C++ engine (``src/model/model_metadata.cpp``). The file is written
under a temporary name in the target directory and renamed into place, so readers never see a
partial archive.
"""

import contextlib
import datetime
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch

from . import __version__
from .checkpoint import file_sha256, load_weights
from .config import (
    ATMOS_FORCING_CHANNELS,
    ATMOS_SUBSTEPS_PER_DAY,
    ModelConfig,
)
from .graph import GraphArrays, reference_build_problems
from .graph_file import graph_provenance, load_graph
from .models import build_graph_for, build_model, random_model
from .network import GraphForecastModel, parameter_count

METADATA_FILE = "neuralom.json"
FORMAT = "neuralom-model"
FORMAT_VERSION = 1

Log = Callable[[str], None]


@dataclass
class ExportResult:
    path: str
    size_bytes: int
    metadata: Dict[str, Any]
    seconds: float
    warnings: List[str] = field(default_factory=list)


def _quiet(_: str) -> None:
    pass


def _stderr_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def reference_mismatch_warning(config: ModelConfig, problems: List[str], checkpoint: bool) -> str:
    """The warning for a configuration the reference code cannot build (``problems`` from
    ``graph.reference_build_problems``)."""
    height, width = config.input_res
    what = (f"{config.kind}, {height}x{width} grid, mesh level {config.mesh_level}"
            + (", local refinement" if config.local_refinement else ""))
    consequence = (
        "the checkpoint's weights load (they do not depend on the grid or mesh), but the "
        "reference never ran them at this configuration" if checkpoint else
        "fine for benchmarks, but no reference checkpoint trained at this configuration exists")
    return (f"the reference code cannot build this configuration ({what}): "
            + "; ".join(problems)
            + f". No reference run matches this export ({consequence}).")


@contextlib.contextmanager
def _torchscript():
    """torch >= 2.10 flags torch.jit.script/save/load as deprecated (FutureWarning, pointing to
    torch.export). TorchScript is the format the engine reads, so say nothing about it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.\w+` is deprecated", category=FutureWarning)
        yield


def script_model(model: GraphForecastModel) -> torch.jit.ScriptModule:
    """TorchScript of ``model`` ready for inference: eval mode, no cache, no chunking,
    parameters without gradients. ``model`` itself is put into that state too."""
    model.eval()
    model.clear_static_cache()
    model.set_edge_chunk(0)
    for param in model.parameters():
        param.requires_grad_(False)
    with _torchscript():
        return torch.jit.script(model)


def _refinement_description(config: ModelConfig):
    """``false``, or the local refinement boxes (degrees) and extra splits, in order."""
    if not config.local_refinement:
        return False
    keys = ("lat_min", "lat_max", "lon_min", "lon_max", "splits")
    return [
        {key: (int(value) if key == "splits" else float(value)) for key, value in zip(keys, spec)}
        for spec in config.local_refinement
    ]


def build_metadata(
    config: ModelConfig,
    graph: Dict[str, Any],
    parameters: int,
    checkpoint: Optional[str] = None,
    checkpoint_sha256: Optional[str] = None,
    seed: Optional[int] = None,
) -> Dict[str, Any]:
    """The ``neuralom.json`` content (key names are read by the C++ engine; keep them).

    ``graph`` is ``graph_file.graph_provenance(...)``: sizes, method, SHA-256s, library versions.
    """
    metadata: Dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": config.kind,
        "reference_class": config.reference_class,
        "in_channels": config.in_channels,
        "out_channels": config.out_channels,
        "grid": [config.input_res[0], config.input_res[1]],
        "mesh_level": config.mesh_level,
        "hidden_dim": config.hidden_dim,
        "processor_layers": config.processor_layers,
        "local_refinement": _refinement_description(config),
        "graph": graph,
        "parameters": parameters,
        "checkpoint": checkpoint,
        "checkpoint_sha256": checkpoint_sha256,
        "random_init_seed": seed,
        "torch_version": torch.__version__,
        "exporter_version": __version__,
        "created_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if config.kind == "stage1":
        metadata["forcing_channels_per_day"] = (config.in_channels - config.out_channels) // 2
    if config.kind == "atmos":
        metadata["substeps_per_day"] = ATMOS_SUBSTEPS_PER_DAY
        metadata["forcing_channels"] = list(ATMOS_FORCING_CHANNELS)
    return metadata


def write_archive(scripted: torch.jit.ScriptModule, path: str, metadata: Dict[str, Any]) -> int:
    """Save ``scripted`` with ``neuralom.json`` to ``path`` atomically; returns the file size.

    The archive is written into a hidden temporary directory next to ``path`` (same file system,
    same base name, which TorchScript uses as the archive's internal folder) and renamed over
    ``path``, so an existing file is replaced only by a complete one. Raises OSError on failure;
    nothing is left behind.
    """
    directory = os.path.dirname(os.path.abspath(path))
    staging = tempfile.mkdtemp(prefix=".neuralom-export-", dir=directory)
    temporary = os.path.join(staging, os.path.basename(path))
    extra = {METADATA_FILE: json.dumps(metadata, indent=2)}
    try:
        with _torchscript():
            torch.jit.save(scripted, temporary, _extra_files=extra)
        os.replace(temporary, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return os.path.getsize(path)


def read_metadata(path: str) -> Dict[str, Any]:
    """``neuralom.json`` of an exported archive (loads the archive on the CPU)."""
    extra = {METADATA_FILE: ""}
    with _torchscript():
        torch.jit.load(path, map_location="cpu", _extra_files=extra)
    return json.loads(extra[METADATA_FILE])


def _graph_of(
    config: ModelConfig, graph_file: Optional[str], log: Log
) -> Tuple[GraphArrays, Dict[str, Any]]:
    """The model's graph (built, or read from ``graph_file``) and its provenance record."""
    height, width = config.input_res
    if graph_file is not None:
        log(f"reading graph {graph_file} (checked against {height}x{width}, "
            f"mesh level {config.mesh_level})")
        graph = load_graph(graph_file, config)
        return graph, graph_provenance(graph, "file", graph_file)
    log(f"building graph: {height}x{width} grid, mesh level {config.mesh_level}"
        + (", local refinement" if config.local_refinement else "")
        + f", {config.mesh_arithmetic} arithmetic")
    graph = build_graph_for(config)
    return graph, graph_provenance(graph, config.mesh_arithmetic)


def export_model(
    config: ModelConfig,
    out: str,
    checkpoint: Optional[str] = None,
    seed: Optional[int] = None,
    log: Log = _quiet,
    graph_file: Optional[str] = None,
    warn: Log = _stderr_warning,
) -> ExportResult:
    """Build the network of ``config``, fill it from ``checkpoint`` (strictly) or randomly with
    ``seed``, script it and write it to ``out``. Exactly one of ``checkpoint``/``seed`` is given.
    The graph is built with ``config.mesh_arithmetic``, or read from ``graph_file`` (``.npz``).
    A configuration the reference code cannot build (``graph.reference_build_problems``) is
    still exported, with a warning passed to ``warn`` (default: stderr) and kept in the result.

    Raises checkpoint.CheckpointError for unusable checkpoints, graph_file.GraphFileError for an
    unusable graph file, OSError if writing fails.
    """
    if (checkpoint is None) == (seed is None):
        raise ValueError("give either a checkpoint or a random-init seed")
    start = time.perf_counter()

    step = time.perf_counter()
    graph, provenance = _graph_of(config, graph_file, log)
    log("graph: {grid_nodes} grid nodes, {mesh_nodes} mesh nodes, {mesh_edges} mesh edges, "
        "{g2m_edges} g2m edges, {m2g_edges} m2g edges".format(**provenance)
        + f", indices sha256 {provenance['index_sha256'][:12]} ({time.perf_counter() - step:.1f} s)")
    problems = reference_build_problems(graph, config.mesh_level, config.local_refinement)
    warnings_given: List[str] = []
    if problems:
        warnings_given.append(reference_mismatch_warning(config, problems, checkpoint is not None))
        warn(warnings_given[-1])

    step = time.perf_counter()
    digest = None
    if checkpoint is not None:
        model = build_model(config, graph)
        log(f"loading checkpoint {checkpoint}")
        load_weights(model, checkpoint)
        digest = file_sha256(checkpoint)
        checkpoint = os.path.abspath(checkpoint)
    else:
        model = random_model(config, seed, graph)
        log(f"random initialisation with seed {seed}")
    del graph
    parameters = parameter_count(model)
    log(f"{config.reference_class}: {parameters:,} parameters "
        f"({time.perf_counter() - step:.1f} s)")

    step = time.perf_counter()
    log("scripting (torch.jit.script)")
    scripted = script_model(model)
    metadata = build_metadata(config, provenance, parameters, checkpoint, digest, seed)
    log(f"writing {out}")
    size = write_archive(scripted, out, metadata)
    log(f"wrote {out}: {size / 2**20:.1f} MiB ({time.perf_counter() - step:.1f} s)")
    return ExportResult(out, size, metadata, time.perf_counter() - start, warnings_given)
