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
sys.path.insert(0, str(HERE.parent))  # tests/float32_bounds.py
from float32_bounds import REORDERED_SUMS, ulps  # noqa: E402

# Configuration of every golden case (golden/README.md). The goldens were made on a machine whose
# BLAS sdot equals sqrt((x^2+y^2)+z^2), i.e. with the *portable* mesh arithmetic; the default
# (reference) arithmetic reproduces the reference on the machine running the tests, which on a
# CPU with an FMA BLAS kernel (AVX2/AVX-512 OpenBLAS) is a different graph than the goldens'.
SMALL = dict(input_res=(32, 64), mesh_level=3, hidden_dim=32, processor_layers=4,
             mesh_arithmetic="portable")
SMALL_ARGS = ["--input-res", "32", "64", "--mesh-level", "3", "--hidden-dim", "32",
              "--processor-layers", "4", "--mesh-arithmetic", "portable"]
CHECKPOINTS = {
    "stage1": GOLDEN / "ocean_small" / "stage1_best_ckpt.tar",
    "stage2": GOLDEN / "ocean_small" / "stage2_best_ckpt.tar",
    "atmos": GOLDEN / "atmos_small" / "atmos_best_ckpt.tar",
}


def forward_tolerance(reference) -> float:
    """A single forward vs the reference's: the same float32 network, sums in another order."""
    return ulps(reference, REORDERED_SUMS)


def golden_array(case: str, name: str) -> torch.Tensor:
    """``golden/<case>/<name>.npy`` as a tensor."""
    return torch.from_numpy(np.load(GOLDEN / case / f"{name}.npy"))


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, f"shape {tuple(a.shape)} != {tuple(b.shape)}"
    return float((a.double() - b.double()).abs().max())
