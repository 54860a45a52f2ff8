"""Constructing the networks: from a configuration, with a seeded random initialisation, or with
the weights of a reference checkpoint. These are the eager entry points used by other tools
(demo trainer, benchmarks); their names and signatures are kept stable.

    config = make_config("stage1", input_res=(32, 64), mesh_level=3, hidden_dim=32,
                         processor_layers=4)
    model = random_model(config, seed=0)          # eval mode, eager
    model = load_model("stage1", "best_ckpt.tar", input_res=(32, 64), mesh_level=3,
                       hidden_dim=32, processor_layers=4)
"""

from typing import Optional

import torch

from .checkpoint import load_weights
from .config import MODEL_KINDS, REFERENCE_CLASS, ModelConfig, default_config, make_config
from .graph import GraphArrays, build_graph
from .network import GraphForecastModel, parameter_count

__all__ = [
    "MODEL_KINDS",
    "REFERENCE_CLASS",
    "GraphForecastModel",
    "ModelConfig",
    "build_graph_for",
    "build_model",
    "default_config",
    "load_model",
    "make_config",
    "parameter_count",
    "random_model",
]


def build_graph_for(config: ModelConfig) -> GraphArrays:
    """The static graph of ``config`` (grid size, mesh level, local refinement, arithmetic)."""
    height, width = config.input_res
    return build_graph(
        height, width, config.mesh_level, config.local_refinement or None, config.mesh_arithmetic
    )


def build_model(config: ModelConfig, graph: Optional[GraphArrays] = None) -> GraphForecastModel:
    """The network of ``config`` with parameters drawn from torch's current RNG state (PyTorch's
    default initialisation, as the reference constructor), in eval mode. The graph is built
    unless one is given (``graph`` from ``build_graph_for(config)`` can be shared by models of
    the same grid and mesh)."""
    if graph is None:
        graph = build_graph_for(config)
    return GraphForecastModel(config, graph).eval()


def random_model(
    config: ModelConfig, seed: int, graph: Optional[GraphArrays] = None
) -> GraphForecastModel:
    """``build_model`` with parameters drawn from a generator seeded with ``seed``; torch's global
    RNG state is left as it was. Same seed, same weights."""
    if graph is None:
        graph = build_graph_for(config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(config, graph)


def load_model(kind: str, checkpoint: str, **config) -> GraphForecastModel:
    """Eager model (eval mode, no cache, no chunking) with the weights of ``checkpoint``.

    ``config`` overrides the reference configuration of ``kind`` (see ``make_config``):
    ``input_res=(H, W)``, ``mesh_level``, ``hidden_dim``, ``processor_layers``, ...
    Raises ``checkpoint.CheckpointError`` for unreadable or mismatching checkpoints.
    """
    model = build_model(make_config(kind, **config))
    load_weights(model, checkpoint)
    return model
