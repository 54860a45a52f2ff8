"""Paths, constants and helpers shared by the exporter tests (fixtures live in conftest.py).

Environment (set by CTest; every one falls back to a path relative to this file):
  NEURALOM_TEST_DATA_DIR  tests/data (golden fixtures under golden/)
  NEURALOM_TEST_WORK_DIR  scratch space (else pytest's tmp_path_factory)
  PYTHONPATH              must reach scripts/ (added here when it does not)

A uniquely named module rather than ``conftest`` so that ``import`` finds it even when pytest
collects other test folders (with their own conftest.py) in the same run.
"""

import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("NEURALOM_SOURCE_DIR", HERE.parent.parent))
SCRIPTS_DIR = SOURCE_DIR / "scripts"
DATA_DIR = Path(os.environ.get("NEURALOM_TEST_DATA_DIR", SOURCE_DIR / "tests" / "data"))
GOLDEN = DATA_DIR / "golden"
EXPORT_SCRIPT = SCRIPTS_DIR / "export_torchscript.py"

try:
    import neuralom_export  # noqa: F401
except ImportError:
    sys.path.insert(0, str(SCRIPTS_DIR))

# Configuration of every golden case (golden/README.md).
SMALL = dict(input_res=(32, 64), mesh_level=3, hidden_dim=32, processor_layers=4)
SMALL_ARGS = ["--input-res", "32", "64", "--mesh-level", "3", "--hidden-dim", "32",
              "--processor-layers", "4"]
CHECKPOINTS = {
    "stage1": GOLDEN / "ocean_small" / "stage1_best_ckpt.tar",
    "stage2": GOLDEN / "ocean_small" / "stage2_best_ckpt.tar",
    "atmos": GOLDEN / "atmos_small" / "atmos_best_ckpt.tar",
}
# Single forwards of a correct float32 implementation land within this of the reference.
FORWARD_TOLERANCE = 1e-5


def golden_array(case: str, name: str) -> torch.Tensor:
    """``golden/<case>/<name>.npy`` as a tensor."""
    return torch.from_numpy(np.load(GOLDEN / case / f"{name}.npy"))


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, f"shape {tuple(a.shape)} != {tuple(b.shape)}"
    return float((a.double() - b.double()).abs().max())
