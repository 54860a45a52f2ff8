"""Configuration of the three reference networks (model-spec §5.1, §6.1).

``make_config(kind, **overrides)`` gives the reference constructor defaults of ``kind`` with the
given sizes replaced; it validates them so that errors surface before any graph is built.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from .icosphere import ATMOS_LOCAL_REFINEMENT, MESH_ARITHMETICS, REFERENCE

REFERENCE_CLASS: Dict[str, str] = {
    "stage1": "MIGraph",
    "stage2": "MIGraph_stage2",
    "atmos": "OneForecast",
}
MODEL_KINDS = tuple(REFERENCE_CLASS)

# Interface facts of the models, written into the export metadata.
OCEAN_CHANNELS = 93  # stage 1/2 output: S, U, V, T at 23 depths + SSH
FORCING_CHANNELS_PER_DAY = 4  # stage 1 input = ocean + forcing(t) + forcing(t+1)
ATMOS_CHANNELS = 69
ATMOS_FORCING_CHANNELS = [65, 66, 67, 68]  # u10, v10, t2m, msl: the ocean's forcing
ATMOS_SUBSTEPS_PER_DAY = 4  # 6-hourly steps per ocean day

RefinementSpec = Tuple[float, float, float, float, int]


@dataclass
class ModelConfig:
    """Everything that defines one network (defaults: the reference configuration).

    ``processor_layers`` counts all processor layers: 1 (processor_encoder) + N-2 (processor)
    + 1 (processor_decoder), as the reference's constructor argument does.
    ``mesh_arithmetic`` says how the graph is built (``icosphere``: ``reference`` mirrors the
    reference's library calls on this machine, ``portable`` is machine-independent).
    """

    kind: str  # "stage1" | "stage2" | "atmos"
    in_channels: int
    out_channels: int
    input_res: Tuple[int, int]
    mesh_level: int = 5
    hidden_dim: int = 432
    processor_layers: int = 16
    local_refinement: List[RefinementSpec] = field(default_factory=list)
    mesh_arithmetic: str = REFERENCE

    @property
    def reference_class(self) -> str:
        return REFERENCE_CLASS[self.kind]

    @property
    def attention(self) -> bool:
        """OneForecast's gated-edge/attention-node processor instead of MIGraph's physics one."""
        return self.kind == "atmos"


def default_config(kind: str) -> ModelConfig:
    """The reference constructor defaults of ``kind`` (stage1/stage2: 360x720, atmos: 120x240)."""
    if kind == "stage1":
        return ModelConfig(
            "stage1", OCEAN_CHANNELS + 2 * FORCING_CHANNELS_PER_DAY, OCEAN_CHANNELS, (360, 720)
        )
    if kind == "stage2":
        return ModelConfig("stage2", OCEAN_CHANNELS, OCEAN_CHANNELS, (360, 720))
    if kind == "atmos":
        return ModelConfig(
            "atmos", ATMOS_CHANNELS, ATMOS_CHANNELS, (120, 240), hidden_dim=512,
            local_refinement=[tuple(spec) for spec in ATMOS_LOCAL_REFINEMENT],
        )
    raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(MODEL_KINDS)}")


def make_config(kind: str, **overrides) -> ModelConfig:
    """``default_config(kind)`` with the non-None ``overrides`` applied, then validated.

    Accepted overrides: ``input_res=(H, W)``, ``mesh_level``, ``hidden_dim``, ``processor_layers``,
    ``in_channels``, ``out_channels``, ``local_refinement``, ``mesh_arithmetic``. Raises ValueError for bad values and
    TypeError for unknown names.
    """
    config = default_config(kind)
    for name, value in overrides.items():
        if value is None:
            continue
        if name == "kind" or not hasattr(config, name):
            raise TypeError(f"unknown model option {name!r}")
        if name == "input_res":
            value = (int(value[0]), int(value[1]))
        setattr(config, name, value)
    validate_config(config)
    return config


def validate_config(config: ModelConfig) -> None:
    """Raise ValueError naming the first size that cannot build a network."""
    h, w = config.input_res
    checks = [
        (h >= 1 and w >= 1, f"input resolution must be positive, got {h}x{w}"),
        (config.in_channels >= 1, f"in_channels must be >= 1, got {config.in_channels}"),
        (config.out_channels >= 1, f"out_channels must be >= 1, got {config.out_channels}"),
        (0 <= config.mesh_level <= 7, f"mesh level must be in 0..7, got {config.mesh_level}"),
        (config.hidden_dim >= 1, f"hidden dim must be >= 1, got {config.hidden_dim}"),
        (config.processor_layers >= 3,
         f"processor layers must be >= 3 (1 + N-2 + 1), got {config.processor_layers}"),
        (config.mesh_arithmetic in MESH_ARITHMETICS,
         f"mesh arithmetic must be one of {', '.join(MESH_ARITHMETICS)}, "
         f"got {config.mesh_arithmetic!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)
