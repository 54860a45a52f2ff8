"""Fixtures of the exporter tests (scripts/neuralom_export); constants and helpers are in
exporter_testlib.py."""

import os
import tempfile
from pathlib import Path

import pytest
import torch

from exporter_testlib import CHECKPOINTS, SMALL
from neuralom_export.export import script_model, write_archive
from neuralom_export.models import load_model


def pytest_configure(config):
    # torch 1.13 flags scatter_reduce (edge softmax of the atmosphere model) as beta.
    config.addinivalue_line("filterwarnings", "ignore:scatter_reduce\\(\\) is in beta")


@pytest.fixture(scope="session")
def work_dir(tmp_path_factory) -> Path:
    """Scratch directory: a fresh folder under $NEURALOM_TEST_WORK_DIR, else a pytest tmp dir."""
    base = os.environ.get("NEURALOM_TEST_WORK_DIR")
    if base:
        os.makedirs(base, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="python-", dir=base))
    return tmp_path_factory.mktemp("exporter")


@pytest.fixture(scope="session")
def eager_models():
    """kind -> eager model with the golden weights, small configuration."""
    return {kind: load_model(kind, str(path), **SMALL) for kind, path in CHECKPOINTS.items()}


@pytest.fixture(scope="session")
def scripted_models(work_dir):
    """kind -> TorchScript model with the golden weights, saved and loaded back."""
    models = {}
    for kind, path in CHECKPOINTS.items():
        archive = work_dir / f"golden_{kind}.pt"
        write_archive(script_model(load_model(kind, str(path), **SMALL)), str(archive), {})
        models[kind] = torch.jit.load(str(archive))
    return models


@pytest.fixture(autouse=True)
def _no_grad():
    with torch.no_grad():
        yield
