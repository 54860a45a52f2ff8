#!/usr/bin/env python3
"""Writes a synthetic dataset in the reference layout, of any size, for benchmarks and scale tests.

    make_synthetic_data.py --out /tmp/synth --height 360 --width 720 --days 4 [--atmos]

Creates test/<year>.h5 (fields [days, 97, H+1, W] float32, NaN on land), land_mask.h5
([1, 93, H+1, W]), mean/std_s_t_ssh.npy ([1, 97, 1, 1] float64, the reference's real statistics when
data/reference/ has them), climate_mean_s_t_ssh.npy ([days, 97, H+1, W] float32) and, with
--atmos, test_atmos/<year>.h5 ([4 days, 69, Ha+1, Wa]) with mean/std_atmos.npy. Values are smooth
random fields of the right magnitude; they carry no physics (use scripts/make_demo_data.py for data
a model can learn). Files are written one day at a time, so memory stays small at full size.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("make_synthetic_data.py needs numpy and h5py (Debian: python3-h5py); run it with /usr/bin/python3")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_STATS = ROOT / "data" / "reference"


def stats(prefix: str, channels: int, rng: np.random.Generator):
    """The reference's statistics if present, else plausible ones."""
    mean_path = REFERENCE_STATS / f"mean_{prefix}.npy"
    std_path = REFERENCE_STATS / f"std_{prefix}.npy"
    if mean_path.exists() and std_path.exists():
        return np.load(mean_path), np.load(std_path)
    mean = rng.normal(0.0, 0.01, (1, channels, 1, 1))
    std = rng.uniform(0.05, 1.0, (1, channels, 1, 1))
    return mean, std


def smooth_field(rng: np.random.Generator, channels: int, rows: int, cols: int) -> np.ndarray:
    """Unit-variance fields with large-scale structure: a few random zonal/meridional waves."""
    y = np.linspace(0.0, np.pi, rows, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 2 * np.pi, cols, endpoint=False, dtype=np.float32)[None, :]
    out = np.empty((channels, rows, cols), np.float32)
    for c in range(channels):
        k, l, phase = rng.integers(1, 6), rng.integers(1, 4), rng.uniform(0, 2 * np.pi)
        out[c] = np.sin(k * x + phase) * np.sin(l * y) * np.float32(np.sqrt(2.0))
    return out


def land_mask(rows: int, cols: int, channels: int) -> np.ndarray:
    """Depth-dependent land: two continents that widen with depth."""
    lat = np.linspace(-90, 90, rows)[:, None]
    lon = np.linspace(0, 360, cols, endpoint=False)[None, :]
    mask = np.ones((1, channels, rows, cols), np.float32)
    for c in range(channels):
        grow = 5.0 * (c % 23) / 22.0
        land = (np.abs(lon - 100) < 20 + grow) & (np.abs(lat - 20) < 40 + grow)
        land |= (np.abs(lon - 280) < 15 + grow) & (np.abs(lat) < 50 + grow)
        land |= lat < -80
        mask[0, c][land] = 0.0
    return mask


def write_atomic_h5(path: Path, shape, fill):
    tmp = path.with_name(path.name + ".partial")
    with h5py.File(tmp, "w") as f:
        d = f.create_dataset("fields", shape=shape, dtype="f4", chunks=(1, 1) + tuple(shape[2:]))
        for t in range(shape[0]):
            d[t] = fill(t)
    os.replace(tmp, path)


def save_npy_atomic(path: Path, array: np.ndarray):
    tmp = path.with_name(path.name + ".partial.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--width", type=int, default=720)
    p.add_argument("--days", type=int, default=4)
    p.add_argument("--year", default="2020")
    p.add_argument("--atmos", action="store_true", help="also write the 6-hourly atmosphere file")
    p.add_argument("--atmos-height", type=int, default=120)
    p.add_argument("--atmos-width", type=int, default=240)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.height < 2 or a.width < 2 or a.days < 2:
        p.error("height, width and days must be at least 2")

    t0 = time.time()
    rng = np.random.default_rng(a.seed)
    rows = a.height + 1
    (a.out / "test").mkdir(parents=True, exist_ok=True)
    mean, std = stats("s_t_ssh", 97, rng)
    save_npy_atomic(a.out / "mean_s_t_ssh.npy", mean)
    save_npy_atomic(a.out / "std_s_t_ssh.npy", std)
    mask = land_mask(rows, a.width, 93)
    write_atomic_h5(a.out / "land_mask.h5", mask.shape, lambda t: mask[t])

    base = smooth_field(rng, 97, rows, a.width)
    climate = (base * std[0] * 0.5 + mean[0]).astype(np.float32)
    ocean_land = np.concatenate([mask[0] == 0, np.zeros((4, rows, a.width), bool)])

    def clim_day(t):
        return climate * np.float32(1.0 + 0.1 * np.sin(2 * np.pi * t / 365.0))

    clim_tmp = a.out / "climate_mean_s_t_ssh.partial.npy"
    clim = np.lib.format.open_memmap(clim_tmp, mode="w+", dtype=np.float32, shape=(a.days, 97, rows, a.width))
    for t in range(a.days):
        clim[t] = clim_day(t)
    clim.flush()
    del clim
    os.replace(clim_tmp, a.out / "climate_mean_s_t_ssh.npy")

    def ocean_day(t):
        anomaly = smooth_field(np.random.default_rng(a.seed * 1000 + t), 97, rows, a.width) * std[0]
        day = clim_day(t) + anomaly.astype(np.float32) + mean[0].astype(np.float32)
        day[ocean_land] = np.nan
        return day

    write_atomic_h5(a.out / "test" / f"{a.year}.h5", (a.days, 97, rows, a.width), ocean_day)

    if a.atmos:
        (a.out / "test_atmos").mkdir(exist_ok=True)
        amean, astd = stats("atmos", 69, rng)
        save_npy_atomic(a.out / "mean_atmos.npy", amean)
        save_npy_atomic(a.out / "std_atmos.npy", astd)
        arows = a.atmos_height + 1

        def atmos_step(t):
            f = smooth_field(np.random.default_rng(a.seed * 7919 + t), 69, arows, a.atmos_width)
            return (f * astd[0] + amean[0]).astype(np.float32)

        write_atomic_h5(a.out / "test_atmos" / f"{a.year}.h5", (4 * a.days, 69, arows, a.atmos_width), atmos_step)

    size = sum(f.stat().st_size for f in a.out.rglob("*") if f.is_file())
    print(f"wrote {a.out} ({size / 2**20:.0f} MiB) in {time.time() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
