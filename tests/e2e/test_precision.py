"""--precision, --cuda-graphs and --cuda-fused-kernels on the CPU: the default stays float32 bit for bit, bf16 deviates
from fp32 within a bound measured on the demo's trained models, and what a CPU cannot do is
refused with exit code 2 before anything is computed.

The bf16 case rolls the committed demo models (data/demo_models, trained, exported with bf16
support) out for 30 days from 4 initial conditions of a 40-day demo test year generated here, once
in fp32 and once in bf16, and compares the predicted fields per variable.

The bound. bfloat16 keeps 8 significant bits (unit roundoff 2^-9 = 2.0e-3); one forward of the
demo's stage 1 in bf16 deviates from fp32 by ~1 % of the output's RMS (measured: 1.04 % stage 1,
0.70 % stage 2, with float32 LayerNorm statistics). Over a 30-day rollout the deviation does not
compound without limit: the demo dynamics relax every channel by 0.85-0.95 per day, so it settles
at a few per cent of the field. Measured with this test's data and ICs (and for docs/gpu.md with the
demo's 14 ICs x 30 days): RMS(bf16 - fp32) / RMS(field) is 2.0-3.3 % per variable. The test allows
twice the largest measured ratio (7 %) -- a regression that lets bf16 reach the state, the residual
sum or the LayerNorm statistics shows as a larger deviation -- and requires at least 0.1 %, far
above float32 rounding (~1e-6), to show that bf16 was really used. The skill at day 30 (all-channel
normalised RMSE) may change by at most 3 % of fp32's (measured: 0.15 % here, 0.6 % on 14 ICs)."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from conftest import SOURCE_DIR
from test_hostile_models import Conv, metadata, save

MODELS = SOURCE_DIR / "data" / "demo_models"
CONFIG = SOURCE_DIR / "configs" / "demo.yaml"
PYTHON = os.environ.get("NEURALOM_PYTHON", sys.executable)
ALL_CHANNELS = ",".join(str(c) for c in range(93))
FAMILIES = {"S": range(0, 23), "U": range(23, 46), "V": range(46, 69), "T": range(69, 92), "SSH": [92]}
# RMS(bf16 - fp32) / RMS(field) per variable, over all ICs, leads and ocean points.
MAX_RELATIVE_DEVIATION = 0.07
MIN_RELATIVE_DEVIATION = 1e-3
MAX_SKILL_CHANGE = 0.03  # |Δ nRMSE(ALL, day 30)| / nRMSE_fp32


@pytest.fixture(scope="module")
def demo_data(work_dir):
    data = work_dir / "precision_demo_data"
    subprocess.run([PYTHON, str(SOURCE_DIR / "scripts" / "make_demo_data.py"), "--out", str(data),
                    "--years", "2020", "--days", "40"], check=True, capture_output=True)
    return data


def simulate(neuralom, data, out, *extra):
    result = neuralom("simulate", "--config-file", CONFIG, "--data-dir", data, "--year", "2020", "--output", out,
                      "--overwrite", "--ics", "0:10:3", "--prediction-length", "31", "--no-data-hash",
                      "--save-fields", "--save-channels", ALL_CHANNELS, "--format", "hdf5", "--threads", "1",
                      "--device", "cpu", *extra)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def predicted(run: Path) -> np.ndarray:
    with h5py.File(run / "results_simulation.h5", "r") as f:
        return f["predicted"][...].astype(np.float64)  # [N, P, C, H, W], land 0


def metrics_csv(run: Path):
    with open(run / "metrics.csv", newline="") as f:
        return {(r["system"], int(r["lead"]), r["variable"]): r for r in csv.DictReader(f)}


def settings(run: Path):
    return json.loads((run / "run.json").read_text())["settings"]


@pytest.fixture(scope="module")
def fp32_run(neuralom, demo_data, work_dir):
    return simulate(neuralom, demo_data, work_dir / "precision_fp32")


def test_fp32_is_the_default_bit_for_bit(neuralom, demo_data, work_dir, fp32_run):
    explicit = simulate(neuralom, demo_data, work_dir / "precision_fp32_explicit", "--precision", "fp32")
    assert np.array_equal(predicted(fp32_run), predicted(explicit))
    assert (fp32_run / "metrics.csv").read_bytes() == (explicit / "metrics.csv").read_bytes()
    # fp32 is not written into the settings, so journals and fingerprints of earlier runs stay valid.
    assert "precision" not in settings(fp32_run) and "precision" not in settings(explicit)


def test_deterministic_changes_nothing_on_the_cpu(neuralom, demo_data, work_dir, fp32_run):
    # The CPU kernels are deterministic already; on a GPU the flag removes the atomics' jitter.
    det = simulate(neuralom, demo_data, work_dir / "precision_fp32_deterministic", "--deterministic")
    assert np.array_equal(predicted(fp32_run), predicted(det))
    assert (fp32_run / "metrics.csv").read_bytes() == (det / "metrics.csv").read_bytes()


def test_bf16_deviation_from_fp32_is_bounded(neuralom, demo_data, work_dir, fp32_run):
    bf16_run = simulate(neuralom, demo_data, work_dir / "precision_bf16", "--precision", "bf16")
    assert settings(bf16_run)["precision"] == "bf16"
    a, b = predicted(fp32_run), predicted(bf16_run)
    assert np.isfinite(b).all()
    report = []
    for name, channels in FAMILIES.items():
        channels = list(channels)
        diff = np.sqrt(np.mean((b[:, 1:, channels] - a[:, 1:, channels]) ** 2))
        field = np.sqrt(np.mean(a[:, 1:, channels] ** 2))
        report.append(f"{name}: {diff / field:.4f}")
        assert MIN_RELATIVE_DEVIATION < diff / field < MAX_RELATIVE_DEVIATION, ", ".join(report)
    # The initial state is the truth in both.
    assert np.array_equal(a[:, 0], b[:, 0])
    m32, m16 = metrics_csv(fp32_run), metrics_csv(bf16_run)
    n32, n16 = float(m32[("model", 30, "ALL")]["nrmse"]), float(m16[("model", 30, "ALL")]["nrmse"])
    assert abs(n16 - n32) / n32 < MAX_SKILL_CHANGE, (n32, n16)


def refused(result, *phrases):
    assert result.returncode == 2, result.stdout + result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr


def test_bf16_refused_for_an_archive_without_bf16_support(neuralom, demo_data, work_dir):
    # A network exported before bf16 support: no `supports_bf16` attribute.
    old = save(Conv(101, 93), work_dir / "no_bf16_stage1.pt", metadata())
    out = work_dir / "precision_refused_old"
    refused(neuralom("simulate", "--config-file", CONFIG, "--data-dir", demo_data, "--year", "2020",
                     "--stages", old, "--output", out, "--ics", "0", "--prediction-length", "2",
                     "--device", "cpu", "--precision", "bf16"),
            "no_bf16_stage1.pt", "--precision bf16 needs an archive exported with bfloat16 support")
    assert not (out / "metrics.csv").exists()


@pytest.mark.parametrize("flags, phrase", [
    (["--precision", "tf32"], "--precision tf32 needs a CUDA device, but the run is on cpu"),
    (["--cuda-graphs"], "--cuda-graphs needs a CUDA device, but the run is on cpu"),
    (["--cuda-fused-kernels"], "--cuda-fused-kernels needs a CUDA device, but the run is on cpu"),
    (["--cuda-fused-kernels", "--no-fused-kernels"],
     "--cuda-fused-kernels and --no-fused-kernels (fused_kernels: false) contradict each other"),
    (["--precision", "fp16"], "unknown precision 'fp16' (expected fp32, tf32 or bf16)"),
])
def test_refused_on_the_cpu(neuralom, demo_data, work_dir, flags, phrase):
    out = work_dir / "precision_refused"
    refused(neuralom("simulate", "--config-file", CONFIG, "--data-dir", demo_data, "--year", "2020",
                     "--output", out, "--ics", "0", "--prediction-length", "2", "--device", "cpu", *flags),
            phrase)
    assert not (out / "metrics.csv").exists() and not (out / "run.json").exists()


def test_bf16_models_load_in_python_too():
    # The exported module itself: bf16 parameters, float32 in and out, LayerNorm statistics in
    # float32 (the same ~1 % single-step deviation the engine sees).
    model = torch.jit.load(str(MODELS / "stage1.pt")).eval()
    x = torch.sin(torch.arange(101 * 32 * 64, dtype=torch.float32) * 0.618034).reshape(1, 101, 32, 64)
    with torch.inference_mode():
        y32 = model(x)
        model.to(torch.bfloat16)  # floating-point parameters and buffers only, as the engine
        assert next(model.parameters()).dtype == torch.bfloat16
        y16 = model(x)
    assert y16.dtype == torch.float32
    relative = ((y16 - y32).pow(2).mean().sqrt() / y32.pow(2).mean().sqrt()).item()
    assert 1e-3 < relative < 0.03, relative
