#!/usr/bin/env python3
"""Generates the embedded demo's data set: a small synthetic ocean that a NeuralOM model can learn.

    make_demo_data.py --out data/demo [--seed 0] [--days 100] [--years 2019,2020] [--force]

Writes, in the reference layout on a 32x64 grid (files have 33 rows; row 32 is ignored):
  train/2019.h5, train_atmos/2019.h5         training year (scripts/train_demo.py)
  test/2020.h5,  test_atmos/2020.h5          evaluation year (neuralom simulate / forecast)
  land_mask.h5                               [1, 93, 33, 64] float32, 1 = ocean
  mean_s_t_ssh.npy, std_s_t_ssh.npy          [1, 97, 1, 1] (the reference's statistics, data/reference/)
  mean_atmos.npy, std_atmos.npy              [1, 69, 1, 1] (idem)
  climate_mean_s_t_ssh.npy                   [days, 97, 33, 64] day-of-year climatology
  manifest.json                              the parameters; a rerun with the same ones does nothing

The dynamics live in normalised anomaly units (physical = anomaly * std + mean + climatology):
  * forcing f (4 channels, = atmosphere channels 65-68 = ocean channels 93-96): smooth large-scale
    fields, a 6-hourly damped oscillator driven by smooth noise: f(n+1) = rho R f(n) + noise, with
    rho = 0.995 and R rotating channel pairs (0, 1) and (2, 3) into each other with periods of 20
    and 30 days (locally predictable, but far from persistent after 10 days);
  * ocean anomaly a (93 channels), daily: a(t+1) = lam_c a(t) + kappa lap a(t)
    + g_c w_c . (F(t) + F(t+1)) / 2 + small noise, with F(t) the forcing snapshot of day t
    (atmosphere time index 2 + 4 t); deeper levels respond weaker and slower (lam 0.85 -> 0.95).
The seasonal cycle is only in ocean channels 0-92; the forcing's climatology is zero so that the
ocean file's forcing and the atmosphere file's channels 65-68 normalise to the same values.
Atmosphere channels 0-64 are held at their mean (zero anomaly) to keep the files small.

Deterministic (numpy Generator seeded with --seed); files are written under a temporary name and
renamed into place.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("make_demo_data.py needs numpy and h5py (Debian: python3-h5py); run it with /usr/bin/python3")

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "data" / "reference"
VERSION = 4  # bump when the generated data change

H, W = 32, 64
N_OCEAN, N_FORCING, N_ATMOS = 93, 4, 69
DEPTHS = 23
SPIN_UP_DAYS = 40
RHO = 0.995         # forcing AR(1) coefficient per 6-hourly step
PERIODS = (20.0, 30.0)  # days: forcing channel pairs (0, 1) and (2, 3) rotate into each other
DRIFT = 0.0         # forcing eastward drift, grid cells per 6-hourly step (0: none)
KAPPA = 0.05        # lateral diffusion of the ocean anomaly
NOISE = 0.03        # ocean noise relative to the forcing response


def smooth_filter(k0: float) -> np.ndarray:
    """Gaussian low-pass in Fourier space for [H, W] fields."""
    ky = np.fft.fftfreq(H) * H
    kx = np.fft.rfftfreq(W) * W
    k2 = ky[:, None] ** 2 + kx[None, :] ** 2
    return np.exp(-k2 / (k0 ** 2))


def smooth_noise(rng: np.random.Generator, channels: int, filt: np.ndarray) -> np.ndarray:
    """Smooth random fields of unit variance [channels, H, W]."""
    white = rng.standard_normal((channels, H, W))
    field = np.fft.irfft2(np.fft.rfft2(white) * filt, s=(H, W))
    return field / field.std(axis=(1, 2), keepdims=True)


def shift_east(field: np.ndarray, cells: float) -> np.ndarray:
    """Periodic fractional shift along longitude (spectral)."""
    kx = np.fft.rfftfreq(W) * W
    phase = np.exp(-2j * np.pi * kx * cells / W)
    return np.fft.irfft(np.fft.rfft(field, axis=-1) * phase, n=W, axis=-1)


def laplacian(a: np.ndarray) -> np.ndarray:
    """5-point Laplacian, periodic in longitude, zero-gradient at the poles."""
    up = np.concatenate([a[:, :1], a[:, :-1]], axis=1)
    down = np.concatenate([a[:, 1:], a[:, -1:]], axis=1)
    return up + down + np.roll(a, 1, axis=2) + np.roll(a, -1, axis=2) - 4 * a


def latitudes() -> np.ndarray:
    return 90.0 - (np.arange(H) + 0.5) * 180.0 / H  # row 0 north


def land_mask() -> np.ndarray:
    """[93, H, W] float32, 1 = ocean: two continents and a polar cap that grow with depth."""
    lat = latitudes()[:, None]
    lon = (np.arange(W)[None, :] + 0.5) * 360.0 / W - 180.0
    mask = np.ones((N_OCEAN, H, W), np.float32)
    for c in range(N_OCEAN):
        k = c % DEPTHS if c < 92 else 0
        grow = 1.0 + 0.6 * k / (DEPTHS - 1)
        d1 = ((lon + 80.0) / (28.0 * grow)) ** 2 + ((lat - 15.0) / (45.0 * grow)) ** 2
        d2 = ((lon - 50.0) / (38.0 * grow)) ** 2 + ((lat - 30.0) / (28.0 * grow)) ** 2
        cap = lat < -(72.0 - 8.0 * k / (DEPTHS - 1))
        mask[c][(d1 < 1.0) | (d2 < 1.0) | cap] = 0.0
    return mask


def channel_parameters(rng: np.random.Generator):
    """Per-channel damping lam, gain g and forcing weights w [93, 4]."""
    lam = np.empty(N_OCEAN)
    gain = np.empty(N_OCEAN)
    weights = np.empty((N_OCEAN, N_FORCING))
    group_w = rng.standard_normal((5, N_FORCING))
    group_w /= np.linalg.norm(group_w, axis=1, keepdims=True)
    for c in range(N_OCEAN):
        group, k = (c // DEPTHS, c % DEPTHS) if c < 92 else (4, 0)
        lam[c] = 0.85 + 0.10 * k / (DEPTHS - 1)
        gain[c] = 0.3 * np.exp(-k / 12.0)
        w = group_w[group] + 0.15 * k / (DEPTHS - 1) * rng.standard_normal(N_FORCING)
        weights[c] = w / np.linalg.norm(w)
    return lam, gain, weights


def simulate(seed: int, days_per_year: int, n_years: int):
    """Forcing [4 * total_days, 4, H, W] and ocean anomaly [total_days, 93, H, W] (after spin-up),
    both float64 in normalised units."""
    rng = np.random.default_rng(seed)
    lam, gain, weights = channel_parameters(rng)
    filt_f = smooth_filter(4.0)
    filt_o = smooth_filter(6.0)
    total = days_per_year * n_years
    steps = 4 * (SPIN_UP_DAYS + total + 1)
    f = smooth_noise(rng, N_FORCING, filt_f)
    forcing = np.empty((steps, N_FORCING, H, W))
    for n in range(steps):
        forcing[n] = f
        g = shift_east(f, DRIFT) if DRIFT else f.copy()
        for pair, period in enumerate(PERIODS):
            w = 2 * np.pi / (4 * period)
            u, v = g[2 * pair].copy(), g[2 * pair + 1].copy()
            g[2 * pair] = np.cos(w) * u - np.sin(w) * v
            g[2 * pair + 1] = np.sin(w) * u + np.cos(w) * v
        f = RHO * g + np.sqrt(1 - RHO ** 2) * smooth_noise(rng, N_FORCING, filt_f)
    daily = forcing[2::4]  # the snapshot of ocean day t is time index 2 + 4 t
    a = np.zeros((N_OCEAN, H, W))
    ocean = np.empty((SPIN_UP_DAYS + total, N_OCEAN, H, W))
    lam_ = lam[:, None, None]
    gain_ = gain[:, None, None]
    for t in range(SPIN_UP_DAYS + total):
        ocean[t] = a
        drive = np.einsum("cj,jhw->chw", weights, 0.5 * (daily[t] + daily[t + 1]))
        noise = smooth_noise(rng, N_OCEAN, filt_o)
        a = lam_ * a + KAPPA * laplacian(a) + gain_ * (drive + NOISE * noise)
    ocean = ocean[SPIN_UP_DAYS:]
    ocean /= ocean.std(axis=(0, 2, 3), keepdims=True)  # unit variance per channel: a linear rescaling
    forcing = forcing[4 * SPIN_UP_DAYS: 4 * (SPIN_UP_DAYS + total)]
    return forcing, ocean


def climatology(days: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """[days, 97, H+1, W] float32: a base state plus a seasonal sinusoid (x std) in channels 0-92,
    zero in the forcing channels 93-96. Day index = day of year."""
    lat = np.deg2rad(latitudes())[:, None] * np.ones((1, W))
    depth = np.arange(DEPTHS) / (DEPTHS - 1)
    base = np.zeros((97, H, W))
    for k in range(DEPTHS):
        base[k] = 34.0 + 1.5 * np.cos(lat) ** 2 * (1 - depth[k])                 # S
        base[69 + k] = 2.0 + 25.0 * np.cos(lat) ** 2 * np.exp(-3.0 * depth[k])    # T
    amp = np.zeros((97, 1, 1))
    amp[:93, 0, 0] = 1.2 * std[0, :93, 0, 0] * np.exp(-2.0 * np.concatenate([depth] * 4 + [[0.0]]))
    out = np.zeros((days, 97, H + 1, W), np.float32)
    for d in range(days):
        season = np.sin(2 * np.pi * d / 365.0 + 0.3)[None] * np.sign(np.sin(lat))[None]
        field = base + amp * season
        field[93:] = 0.0
        out[d, :, :H] = field.astype(np.float32)
        out[d, :, H] = out[d, :, H - 1]
    return out


def write_atomic(path: Path, writer) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    writer(tmp)
    os.replace(tmp, path)


def write_h5(path: Path, array: np.ndarray, compress: bool = False) -> None:
    def writer(tmp):
        with h5py.File(tmp, "w") as f:
            if compress:
                f.create_dataset("fields", data=array, chunks=(1,) + array.shape[1:],
                                 compression="gzip", compression_opts=1, shuffle=True)
            else:
                f.create_dataset("fields", data=array)
    write_atomic(path, writer)


def write_npy(path: Path, array: np.ndarray) -> None:
    def writer(tmp):
        with open(tmp, "wb") as f:
            np.save(f, array)
    write_atomic(path, writer)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=ROOT / "data" / "demo")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--days", type=int, default=100, help="days per year (default 100)")
    p.add_argument("--years", default="2019,2020",
                   help="years in order; the last one is the test year, the others training")
    p.add_argument("--force", action="store_true", help="regenerate even if the manifest matches")
    a = p.parse_args(argv)
    years = [int(y) for y in a.years.split(",")]
    params = {"version": VERSION, "seed": a.seed, "days": a.days, "years": years,
              "grid": [H, W]}
    manifest = a.out / "manifest.json"
    if not a.force and manifest.exists():
        try:
            if json.loads(manifest.read_text()).get("params") == params:
                print(f"{a.out}: demo data up to date (seed {a.seed}); nothing to do")
                return 0
        except (OSError, ValueError):
            pass
    start = time.time()
    mean = np.load(REFERENCE / "mean_s_t_ssh.npy")
    std = np.load(REFERENCE / "std_s_t_ssh.npy")
    amean = np.load(REFERENCE / "mean_atmos.npy")
    astd = np.load(REFERENCE / "std_atmos.npy")
    if not (np.allclose(amean[0, 65:69], mean[0, 93:97]) and np.allclose(astd[0, 65:69], std[0, 93:97])):
        sys.exit("error: atmosphere channels 65-68 and ocean channels 93-96 need the same statistics")

    forcing, ocean = simulate(a.seed, a.days, len(years))
    mask = land_mask()
    clim = climatology(a.days, mean, std)
    land = mask == 0

    a.out.mkdir(parents=True, exist_ok=True)
    if manifest.exists():
        manifest.unlink()
    write_h5(a.out / "land_mask.h5", np.concatenate([mask, mask[:, -1:]], axis=1)[None])
    write_npy(a.out / "climate_mean_s_t_ssh.npy", clim)
    for name, array in (("mean_s_t_ssh", mean), ("std_s_t_ssh", std),
                        ("mean_atmos", amean), ("std_atmos", astd)):
        write_npy(a.out / f"{name}.npy", array)

    for i, year in enumerate(years):
        split = "test" if i == len(years) - 1 else "train"
        days = slice(i * a.days, (i + 1) * a.days)
        fc = forcing[4 * days.start: 4 * days.stop]
        daily = fc[2::4]
        fields = np.empty((a.days, 97, H + 1, W), np.float32)
        anomaly = np.concatenate([ocean[days], daily], axis=1)
        fields[:, :, :H] = (anomaly * std[0, :, :, :1] + mean[0, :, :, :1]).astype(np.float32) + clim[:, :, :H]
        fields[:, :93, :H][:, land] = np.nan
        fields[:, :93, H] = np.nan
        fields[:, 93:, H] = fields[:, 93:, H - 1]
        write_h5(a.out / split / f"{year}.h5", fields)
        del fields
        atmos = np.empty((4 * a.days, N_ATMOS, H + 1, W), np.float32)
        atmos[:] = amean[0, :, :, :1].astype(np.float32)
        atmos[:, 65:69, :H] = (fc * astd[0, 65:69, :, :1] + amean[0, 65:69, :, :1]).astype(np.float32)
        atmos[:, 65:69, H] = atmos[:, 65:69, H - 1]
        write_h5(a.out / f"{split}_atmos" / f"{year}.h5", atmos, compress=True)
        del atmos

    write_atomic(manifest, lambda tmp: Path(tmp).write_text(json.dumps(
        {"params": params, "seconds": round(time.time() - start, 1)}, indent=2) + "\n"))
    size = sum(f.stat().st_size for f in a.out.rglob("*") if f.is_file())
    print(f"{a.out}: demo data written in {time.time() - start:.1f} s ({size / 2**20:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
