#!/usr/bin/env python3
"""The Python baseline of `neuralom bench`: a simulation rollout run the way the reference runs it.

Eager PyTorch models of the exporter package (the reference's architecture, no static cache, no
edge chunking), batch 1, one IC after the other, the IC's data window read and normalised with
NumPy before its rollout (no overlap of I/O and compute), the land mask applied after each stage.
Timings use the same definitions as `neuralom bench`, so the two JSON reports compare directly:

    bench_python.py --data-dir D --stages-config full --ics 0 --prediction-length 3 --out base.json

The models are random-initialised with the reference configuration (or --input-res/--mesh-level/
--hidden-dim/--processor-layers); weights do not change the cost.
"""

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

try:
    import h5py
    import torch
except ImportError as exc:  # pragma: no cover
    sys.exit(f"bench_python.py needs torch, numpy and h5py ({exc}); run it with /usr/bin/python3 or set $PYTHON")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neuralom_export.models import make_config, random_model  # noqa: E402
from neuralom_export.models import build_graph_for  # noqa: E402


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def load_window(data_dir: Path, year_file: Path, ic: int, length: int, height: int):
    """Z = nan_to_num(((X - C) - mean) / std) for days ic..ic+length-1, as the reference does."""
    mean = np.load(data_dir / "mean_s_t_ssh.npy")
    std = np.load(data_dir / "std_s_t_ssh.npy")
    clim = np.load(data_dir / "climate_mean_s_t_ssh.npy", mmap_mode="r")
    with h5py.File(year_file, "r") as f:
        x = f["fields"][ic:ic + length, :, 0:height]
    c = clim[ic:ic + length, :, 0:height] if clim.shape[0] > 1 else clim[None, :, 0:height]
    z = ((x - c) - mean) / std
    return np.nan_to_num(z, nan=0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--year", default=None)
    p.add_argument("--ics", default="0", help="comma-separated IC day indices")
    p.add_argument("--prediction-length", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch intra-op threads (default: all cores)")
    p.add_argument("--input-res", type=int, nargs=2, default=None)
    p.add_argument("--mesh-level", type=int, default=None)
    p.add_argument("--hidden-dim", type=int, default=None)
    p.add_argument("--processor-layers", type=int, default=None)
    p.add_argument("--out", type=Path, required=True, help="JSON report")
    a = p.parse_args()

    import os
    torch.set_num_threads(a.threads or os.cpu_count() or 1)
    overrides = dict(input_res=a.input_res, mesh_level=a.mesh_level, hidden_dim=a.hidden_dim,
                     processor_layers=a.processor_layers)
    t_setup = time.perf_counter()
    c1 = make_config("stage1", **overrides)
    graph = build_graph_for(c1)
    stage1 = random_model(c1, seed=1, graph=graph)
    stage2 = random_model(make_config("stage2", **overrides), seed=2, graph=graph)
    height, width = c1.input_res
    files = sorted((a.data_dir / "test").glob("*.h5"))
    year_file = a.data_dir / "test" / f"{a.year}.h5" if a.year else files[0]
    with h5py.File(a.data_dir / "land_mask.h5", "r") as f:
        mask = torch.from_numpy(f["fields"][0:1, 0:93, 0:height, 0:width] != 0)
    setup_seconds = time.perf_counter() - t_setup

    ics = [int(s) for s in a.ics.split(",")]
    P = a.prediction_length
    stage_seconds = [0.0, 0.0]
    io_seconds = 0.0
    steps = 0
    t0 = time.perf_counter()
    with torch.no_grad():
        for ic in ics:
            t_io = time.perf_counter()
            z = load_window(a.data_dir, year_file, ic, P, height)
            io_seconds += time.perf_counter() - t_io
            state = torch.from_numpy(z[0, 0:93].astype(np.float32))[None]
            for k in range(1, P):
                forcing = np.concatenate([z[k - 1, 93:97], z[k, 93:97]]).astype(np.float32)
                x = torch.cat([state, torch.from_numpy(forcing)[None]], dim=1)
                t = time.perf_counter()
                y1 = torch.where(mask, stage1(x), torch.zeros(()))
                stage_seconds[0] += time.perf_counter() - t
                t = time.perf_counter()
                state = torch.where(mask, stage2(y1) + y1, torch.zeros(()))
                stage_seconds[1] += time.perf_counter() - t
                steps += 1
    wall = time.perf_counter() - t0
    model_seconds = sum(stage_seconds)
    report = {
        "system": "python-eager-baseline",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "grid": [height, width],
        "batch": 1,
        "initial_conditions": len(ics),
        "prediction_length": P,
        "day_steps": steps,
        "seconds_per_day_step_per_stage": [s / steps for s in stage_seconds],
        "seconds_per_day_step": model_seconds / steps,
        "simulated_days_per_second": steps / wall,
        "initial_conditions_per_hour": steps / wall * 3600 / (P - 1),
        "wall_seconds": wall,
        "setup_seconds": setup_seconds,
        "io_wait_seconds": io_seconds,
        "io_wait_share": io_seconds / wall,
        "model_compute_share": model_seconds / wall,
        "peak_host_gib": peak_rss_gib(),
    }
    a.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
