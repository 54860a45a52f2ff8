"""scripts/gpu_check.sh --cpu: the GPU check's steps on the CPU at the small size, against the
binary under test (no build), and the JSON report it leaves: the expected keys, every step ok,
finite timings for each precision and batch, and a bf16 deviation from fp32 that is real but small.
The same script on a GPU node also builds, runs the golden tests on cuda and times CUDA graphs."""

import json
import math
import os
import subprocess

from conftest import SOURCE_DIR, _binary


def test_gpu_check_cpu_mode_writes_a_complete_report(work_dir):
    out = work_dir / "gpu_check"
    env = dict(os.environ, PYTHON=os.environ.get("NEURALOM_PYTHON", ""))
    env.pop("OUT", None)
    result = subprocess.run(["bash", str(SOURCE_DIR / "scripts" / "gpu_check.sh"), "--cpu", "--bin", str(_binary()),
                             "--out", str(out)], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    report = json.loads((out / "gpu_check.json").read_text())
    assert (out / "gpu_check.log").stat().st_size > 0
    for key in ("mode", "device", "gpu", "size", "grid", "day_steps_per_run", "binary", "total_seconds", "steps",
                "eager_vs_cuda_graphs", "eager_vs_cuda_fused_kernels", "fp32_vs_bf16", "benchmarks"):
        assert key in report, key
    assert (report["mode"], report["device"], report["size"], report["grid"]) == ("cpu", "cpu", "small", [32, 64])
    steps = {s["name"]: s["status"] for s in report["steps"]}
    assert steps == {"assets": "ok", "kernels": "skipped", "golden": "skipped", "compare": "ok", "bench": "ok"}, steps
    assert report["eager_vs_cuda_graphs"] is None  # CUDA graphs are refused on the CPU
    assert report["eager_vs_cuda_fused_kernels"] is None  # and so is --cuda-fused-kernels

    # bf16 vs fp32 over 3 days of random-init models: differs, by well under the field's size.
    dev = report["fp32_vs_bf16"]
    assert not dev["identical"]
    assert 0 < dev["rms"] < 0.2 * dev["rms_field"], dev
    assert math.isfinite(dev["max_abs"])

    runs = {(b["precision"], b["batch"], b["cuda_graphs"], b["cuda_fused_kernels"]): b["bench"]
            for b in report["benchmarks"]}
    assert set(runs) == {(p, b, False, False) for p in ("fp32", "bf16") for b in (1, 2)}
    for (precision, batch, _, _), bench in runs.items():
        assert bench is not None, (precision, batch)
        assert bench["batch"] == batch and bench["device"] == "cpu"
        assert bench["day_steps"] == report["day_steps_per_run"]
        assert bench["precision"] == precision
        for key in ("seconds_per_day_step", "simulated_days_per_second", "wall_seconds", "peak_host_gib"):
            assert math.isfinite(bench[key]) and bench[key] > 0, (key, bench[key])
        # One time per day-step, summing to the total; too few steps for a post-warm-up figure.
        assert len(bench["day_step_seconds"]) == bench["day_steps"]
        assert math.isclose(sum(bench["day_step_seconds"]), bench["seconds_per_day_step"] * bench["day_steps"],
                            rel_tol=1e-9)
        assert bench["seconds_per_day_step_after_warmup"] is None
        assert bench["peak_device_gib"] is None and bench["cuda_graphs"] is False
