"""Model archives across LibTorch versions.

neuralom builds in two flavours: Debian's (torch and LibTorch 1.13) and torch-2.x (PyPI's torch,
LibTorch 2.x). An archive is exported by one flavour's torch and may be run by the other's engine:
* archives of the *other* flavour's torch run in *this* build and give what they give in their
  own build, and reproduce the reference within the end-to-end tolerance; where this build's
  LibTorch is the older one, the engine may instead refuse them, with exit code 2 and a message
  naming both versions (README.md, "Archives across versions");
* an archive from a torch newer than any (an unknown operator, or a newer file format) is refused
  with exit code 2 and a message naming the versions;
* every archive records the torch that exported it in neuralom.json.

The other flavour is found among the builds in $NEURALOM_COMPAT_BUILD_DIRS (colon-separated; CTest
sets build/ and build-torch2/ of the source tree); without it the cross-version cases skip.

Tolerance: the two flavours' LibTorch builds differ in their float32 kernels (Debian's OpenBLAS
against pip's MKL, different SLEEF versions), not in what the archives compute. Measured on the
golden cases: single forwards of the same archive differ by up to 4.9e-6 between torch 1.13 and
2.14, and the 4-day forecast below by up to 5.2e-6 (both within the reference's own 1e-5/1e-4),
so runs of one archive in the two engines must agree within 2e-5; 1e-6 is below that noise.
"""

import json
import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import h5py
import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
SOURCE_DIR = Path(os.environ.get("NEURALOM_SOURCE_DIR", HERE.parent.parent))
GOLDEN = Path(os.environ.get("NEURALOM_TEST_DATA_DIR", SOURCE_DIR / "tests" / "data")) / "golden"
EXPORT_SCRIPT = SOURCE_DIR / "scripts" / "export_torchscript.py"
OCEAN_DATA = GOLDEN / "ocean_small" / "data"
ATMOS_DATA = GOLDEN / "ocean_small_forecasting" / "data"
REFERENCE = GOLDEN / "ocean_small_forecasting" / "results_forecasting.h5"
CHECKPOINTS = {
    "stage1": GOLDEN / "ocean_small" / "stage1_best_ckpt.tar",
    "stage2": GOLDEN / "ocean_small" / "stage2_best_ckpt.tar",
    "atmos": GOLDEN / "ocean_small_forecasting" / "atmos_best_ckpt.tar",
}
# The golden cases' configuration and graph (the portable mesh arithmetic, as tests/e2e exports).
SMALL = ["--input-res", "32", "64", "--mesh-level", "3", "--hidden-dim", "32", "--processor-layers", "4",
         "--mesh-arithmetic", "portable"]

CROSS_LIBTORCH_TOLERANCE = 2e-5  # same archive, the two engines (see the module docstring)
REFERENCE_TOLERANCE = 1e-4  # against the reference implementation, as in tests/e2e
EXIT_BAD_INPUT = 2


@dataclass(frozen=True)
class Flavour:
    """One build: its engine, the Python (torch) that exports for it, and their versions."""

    build_dir: Path
    binary: Path
    python: str
    libtorch: str  # LibTorch of the engine, from `neuralom --version`
    torch: str  # torch of the Python, from torch.__version__

    @property
    def label(self) -> str:
        return f"LibTorch {self.libtorch} ({self.build_dir.name})"


def _major_minor(version: str):
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else None


def _flavour(binary: Path, python: str) -> Flavour:
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    libtorch = re.search(r"LibTorch ([^,)\s]+)", version).group(1)
    torch = subprocess.run([python, "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    return Flavour(binary.parent, binary, python, libtorch, torch)


def _cached_python(build_dir: Path) -> Optional[str]:
    cache = build_dir / "CMakeCache.txt"
    if not cache.exists():
        return None
    match = re.search(r"^NEURALOM_PYTHON:[A-Z]+=(.+)$", cache.read_text(), re.MULTILINE)
    return match.group(1).strip() if match else None


@pytest.fixture(scope="module")
def this() -> Flavour:
    binary = Path(os.environ.get("NEURALOM_BIN", SOURCE_DIR / "build" / "neuralom"))
    python = os.environ.get("NEURALOM_PYTHON")
    if not binary.exists() or not python:
        pytest.exit(f"neuralom binary {binary} or NEURALOM_PYTHON missing; run under CTest", returncode=2)
    return _flavour(binary, python)


@pytest.fixture(scope="module")
def other(this) -> Flavour:
    """The other flavour's build (a different LibTorch major.minor), or skip saying what is missing."""
    dirs = [Path(d) for d in os.environ.get("NEURALOM_COMPAT_BUILD_DIRS", "").split(os.pathsep) if d]
    tried: List[str] = []
    for build_dir in dirs:
        binary, python = build_dir / "neuralom", _cached_python(build_dir)
        if binary.resolve() == this.binary.resolve():
            continue
        if not binary.exists() or not python:
            tried.append(f"{build_dir} (not built)")
            continue
        flavour = _flavour(binary, python)
        if _major_minor(flavour.libtorch) == _major_minor(this.libtorch):
            tried.append(f"{build_dir} (same LibTorch {flavour.libtorch})")
            continue
        return flavour
    pytest.skip("no build of the other flavour to cross versions with: "
                + (", ".join(tried) or "NEURALOM_COMPAT_BUILD_DIRS is empty")
                + ". Build both: scripts/setup.sh and scripts/setup.sh --torch pip (needs nvcc).")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("compat")


def export_all(flavour: Flavour, out_dir: Path) -> Dict[str, Path]:
    """The golden stage 1, stage 2 and atmosphere checkpoints exported with `flavour`'s torch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    archives = {}
    for kind, checkpoint in CHECKPOINTS.items():
        out = out_dir / f"{kind}.pt"
        result = subprocess.run(
            [flavour.python, str(EXPORT_SCRIPT), "--model", kind, "--checkpoint", str(checkpoint),
             "--out", str(out), *SMALL],
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, f"export of {kind} with torch {flavour.torch} failed:\n{result.stderr}"
        archives[kind] = out
    return archives


def forecast(engine: Flavour, archives: Dict[str, Path], out: Path, prediction_length: int = 4):
    """`neuralom forecast` of the golden case with `archives` into `out`; the CompletedProcess."""
    return subprocess.run(
        [str(engine.binary), "forecast", "--data-dir", str(OCEAN_DATA),
         "--stages", f"{archives['stage1']},{archives['stage2']}", "--atmos", str(archives["atmos"]),
         "--atmos-dir", str(ATMOS_DATA / "test_atmos"), "--atmos-mean", str(ATMOS_DATA / "mean_atmos.npy"),
         "--atmos-std", str(ATMOS_DATA / "std_atmos.npy"), "--prediction-length", str(prediction_length),
         "--ics", "0,1", "--output", str(out), "--threads", "2", "--device", "cpu", "--save-fields"],
        capture_output=True, text=True, timeout=900)


def read_fields(path: Path):
    with h5py.File(path, "r") as f:
        return f["ground_truth"][...], f["predicted"][...]


def metadata(archive: Path) -> dict:
    """neuralom.json read from the archive's zip directly (no torch involved)."""
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith("/extra/neuralom.json"))
        return json.loads(z.read(name))


def rewrite_archive(source: Path, target: Path, edit) -> Path:
    """Copies the archive, passing each record (name, bytes) through `edit`."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, edit(info.filename, zin.read(info.filename)))
    return target


@pytest.fixture(scope="module")
def this_archives(this, work) -> Dict[str, Path]:
    return export_all(this, work / f"torch-{this.torch}")


@pytest.fixture(scope="module")
def other_archives(other, work) -> Dict[str, Path]:
    return export_all(other, work / f"torch-{other.torch}")


# --- every build -----------------------------------------------------------------------------------


def test_archives_record_the_exporting_torch(this, this_archives):
    for kind, archive in this_archives.items():
        meta = metadata(archive)
        assert meta["torch_version"] == this.torch, kind
        assert meta["model"] == kind


def test_archive_with_an_operator_of_a_newer_torch_is_refused_naming_both_versions(this, this_archives, work):
    """A newer torch's archive that this LibTorch cannot compile (an operator it lacks)."""
    def edit(name, data):
        if name.endswith("/code/__torch__/neuralom_export/network.py"):
            text = data.decode()
            assert "torch.size(" in text, "the exporter's code changed; pick another call to replace"
            return text.replace("torch.size(", "torch.neuralom_op_of_torch_99(", 1).encode()
        if name.endswith("/extra/neuralom.json"):
            return json.dumps(dict(json.loads(data), torch_version="99.0.0")).encode()
        return data

    future = rewrite_archive(this_archives["stage2"], work / "future_operator_stage2.pt", edit)
    result = subprocess.run(
        [str(this.binary), "simulate", "--data-dir", str(OCEAN_DATA), "--stages", f"{this_archives['stage1']},{future}",
         "--prediction-length", "2", "--ics", "0", "--output", str(work / "future_operator_out"), "--device", "cpu"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    message = result.stderr
    assert f"{future}: cannot load TorchScript model" in message
    assert f"exported with torch 99.0.0, newer than this build's LibTorch {this.libtorch}" in message
    assert "aten::neuralom_op_of_torch_99" in message


def test_archive_of_a_newer_file_format_is_refused_naming_this_libtorch(this, this_archives, work):
    """An archive whose format version no LibTorch reads yet: refused before anything runs."""
    def edit(name, data):
        return b"99\n" if re.fullmatch(r"[^/]+/(\.data/)?version", name) else data

    future = rewrite_archive(this_archives["stage2"], work / "future_format_stage2.pt", edit)
    result = subprocess.run(
        [str(this.binary), "simulate", "--data-dir", str(OCEAN_DATA), "--stages", f"{this_archives['stage1']},{future}",
         "--prediction-length", "2", "--ics", "0", "--output", str(work / "future_format_out"), "--device", "cpu",
         "--dry-run"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_BAD_INPUT, result.stderr
    assert f"{future}: not a TorchScript model archive, or one this LibTorch cannot read" in result.stderr
    assert f"this build's LibTorch is {this.libtorch}" in result.stderr
    assert "version 99" in result.stderr


# --- across the two flavours -----------------------------------------------------------------------


def test_other_flavours_archives_run_here_as_in_their_own_build(this, other, other_archives, work):
    """Archives exported by the other flavour's torch, run by this engine and by their own."""
    out_native = work / f"torch-{other.torch}-on-{other.libtorch}"
    out_here = work / f"torch-{other.torch}-on-{this.libtorch}"
    native = forecast(other, other_archives, out_native)
    assert native.returncode == 0, native.stderr
    here = forecast(this, other_archives, out_here)
    newer_archive = _major_minor(other.torch) > _major_minor(this.libtorch)

    if here.returncode != 0:
        # Allowed only for an archive of a newer torch, and only with a clear refusal.
        assert newer_archive, (f"archives of torch {other.torch} must load in {this.label}:\n{here.stderr}")
        assert here.returncode == EXIT_BAD_INPUT, here.stderr
        assert f"exported with torch {other.torch}" in here.stderr, here.stderr
        assert f"LibTorch {this.libtorch}" in here.stderr, here.stderr
        print(f"archives of torch {other.torch} are refused by {this.label}: {here.stderr.splitlines()[0]}")
        return

    truth_native, pred_native = read_fields(out_native / "results_forecasting.h5")
    truth_here, pred_here = read_fields(out_here / "results_forecasting.h5")
    _, pred_reference = read_fields(REFERENCE)
    assert pred_here.shape == pred_native.shape == (2, 4, 93, 32, 64)
    np.testing.assert_array_equal(truth_here, truth_native)
    cross = float(np.abs(pred_here - pred_native).max())
    vs_reference = float(np.abs(pred_here - pred_reference).max())
    print(f"archives of torch {other.torch}: {this.label} vs {other.label}: max abs difference "
          f"{cross:.3e}; vs the reference {vs_reference:.3e}")
    assert cross <= CROSS_LIBTORCH_TOLERANCE
    assert vs_reference <= REFERENCE_TOLERANCE
