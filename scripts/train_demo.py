#!/usr/bin/env python3
"""Trains the embedded demo's three small networks on the demo's training year and exports them.

    train_demo.py [--data data/demo] [--out data/demo_models] [--seed 0] [--steps1 N] ...

Uses the eager networks of scripts/neuralom_export (32x64 grid, mesh level 3, hidden 32,
4 processor layers) on CPU, one thread, and the engine's normalisation:
  Z = nan_to_num(((X - clim[day]) - mean) / std)     (ocean, 97 channels)
  A = nan_to_num((X_atm - mean_atmos) / std_atmos)   (atmosphere, 69 channels)
  stage 1: [Z_ocean(t), Z_forcing(t), Z_forcing(t+1)] -> Z_ocean(t+1), masked MSE
  stage 2: y1 = mask(S1(x)) (detached) -> mask(S2(y1) + y1) vs Z_ocean(t+1)
  atmos:   A(n) -> A(n+1), one 6-hourly step
Writes <out>/{stage1,stage2,atmos}_best_ckpt.tar (reference checkpoint format) and exports each
with scripts/export_torchscript.py to <out>/{stage1,stage2,atmos}.pt. Same seed and step counts,
same checkpoints (single thread, seeded generators, deterministic algorithms).
"""

import argparse
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from neuralom_export.models import build_graph_for, make_config, random_model  # noqa: E402

import h5py  # noqa: E402

H, W = 32, 64
# The portable mesh arithmetic: the demo models are trained on, and exported with, a graph that is
# the same on every machine, so retraining and re-exporting reproduce them anywhere.
SIZES = dict(input_res=(H, W), mesh_level=3, hidden_dim=32, processor_layers=4,
             mesh_arithmetic="portable")


def load_fields(path: Path) -> np.ndarray:
    with h5py.File(path, "r") as f:
        return f["fields"][:, :, :H, :]


def ocean_data(data: Path, year: int):
    x = load_fields(data / "train" / f"{year}.h5").astype(np.float64)
    clim = np.load(data / "climate_mean_s_t_ssh.npy", mmap_mode="r")[: x.shape[0], :, :H]
    mean = np.load(data / "mean_s_t_ssh.npy")
    std = np.load(data / "std_s_t_ssh.npy")
    z = np.nan_to_num(((x - clim) - mean) / std).astype(np.float32)
    with h5py.File(data / "land_mask.h5", "r") as f:
        mask = f["fields"][0, :93, :H, :].astype(np.float32)
    return torch.from_numpy(z), torch.from_numpy(mask)


def atmos_data(data: Path, year: int):
    x = load_fields(data / "train_atmos" / f"{year}.h5").astype(np.float64)
    mean = np.load(data / "mean_atmos.npy")
    std = np.load(data / "std_atmos.npy")
    return torch.from_numpy(np.nan_to_num((x - mean) / std).astype(np.float32))


def lr_at(step: int, steps: int, lr: float, lr_min: float) -> float:
    return lr_min + 0.5 * (lr - lr_min) * (1 + math.cos(math.pi * step / max(steps, 1)))


def train(name, model, steps, sample, loss_fn, lr, lr_min, seed, log_every=100):
    """Adam with a cosine schedule; ``sample(gen)`` gives (input, target) for one random step."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    start, running = time.time(), 0.0
    for step in range(steps):
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, lr_min)
        x, y = sample(gen)
        loss = loss_fn(model, x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running += loss.item()
        if (step + 1) % log_every == 0 or step + 1 == steps:
            n = (step % log_every) + 1
            print(f"  {name} step {step + 1}/{steps}: loss {running / n:.5f} "
                  f"({time.time() - start:.0f} s)", flush=True)
            running = 0.0
    model.eval()
    return time.time() - start


def save_checkpoint(model, path: Path, steps: int) -> None:
    state = {"module." + k: v.detach().clone() for k, v in model.named_parameters()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"iters": steps, "epoch": 1, "model_state": state}, tmp)
    os.replace(tmp, path)


def export(kind: str, ckpt: Path, out: Path) -> None:
    # Paths relative to the repository root, so the archives' metadata do not name this machine.
    cmd = [sys.executable, str(ROOT / "scripts" / "export_torchscript.py"), "--model", kind,
           "--checkpoint", os.path.relpath(ckpt, ROOT), "--out", os.path.relpath(out, ROOT),
           "--input-res", str(H), str(W), "--mesh-level", "3", "--hidden-dim", "32",
           "--processor-layers", "4", "--mesh-arithmetic", "portable"]
    subprocess.run(cmd, check=True, cwd=ROOT)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "demo_models")
    p.add_argument("--year", type=int, default=2019)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps1", type=int, default=1000, help="stage-1 steps")
    p.add_argument("--steps2", type=int, default=400, help="stage-2 steps")
    p.add_argument("--steps-atmos", type=int, default=900, help="atmosphere steps")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--lr-min", type=float, default=2e-5)
    p.add_argument("--only", choices=["stage1", "stage2", "atmos"], action="append",
                   help="train only these (stage2 needs a trained stage1 checkpoint)")
    p.add_argument("--no-export", action="store_true")
    a = p.parse_args(argv)

    torch.set_num_threads(1)  # one thread: deterministic, and faster than two on a busy machine
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    a.out.mkdir(parents=True, exist_ok=True)
    todo = a.only or ["stage1", "stage2", "atmos"]
    total = time.time()

    cfg1 = make_config("stage1", **SIZES)
    graph = build_graph_for(cfg1)
    ckpt = {k: a.out / f"{k}_best_ckpt.tar" for k in ("stage1", "stage2", "atmos")}

    if "stage1" in todo or "stage2" in todo:
        z, mask = ocean_data(a.data, a.year)
        days = z.shape[0]
        print(f"ocean training data: {days} days, {tuple(z.shape)}", flush=True)

        def sample1(gen):
            t = int(torch.randint(0, days - 1, (1,), generator=gen))
            x = torch.cat([z[t, :93], z[t, 93:97], z[t + 1, 93:97]])[None]
            return x, z[t + 1, :93][None]

        weight = mask / mask.mean()

        def masked_mse(pred, y):
            return (((pred - y) * mask) ** 2 * weight).mean()

        s1 = random_model(cfg1, a.seed, graph)
        if "stage1" in todo:
            secs = train("stage1", s1, a.steps1, sample1, lambda m, x, y: masked_mse(m(x), y),
                         a.lr, a.lr_min, a.seed + 1)
            save_checkpoint(s1, ckpt["stage1"], a.steps1)
            print(f"stage1: {a.steps1} steps in {secs:.0f} s -> {ckpt['stage1']}", flush=True)
        else:
            from neuralom_export.checkpoint import load_weights
            load_weights(s1, str(ckpt["stage1"]))
        if "stage2" in todo:
            s1.eval()
            for q in s1.parameters():
                q.requires_grad_(False)

            def loss2(m, x, y):
                with torch.no_grad():
                    y1 = s1(x) * mask
                return masked_mse((m(y1) + y1) * mask, y)

            s2 = random_model(make_config("stage2", **SIZES), a.seed + 2, graph)
            # Start stage 2 as a near-zero correction of stage 1.
            with torch.no_grad():
                s2.finale.model[2].weight.mul_(0.01)
                s2.finale.model[2].bias.mul_(0.01)
            secs = train("stage2", s2, a.steps2, sample1, loss2, a.lr * 0.5, a.lr_min, a.seed + 3)
            save_checkpoint(s2, ckpt["stage2"], a.steps2)
            print(f"stage2: {a.steps2} steps in {secs:.0f} s -> {ckpt['stage2']}", flush=True)

    if "atmos" in todo:
        at = atmos_data(a.data, a.year)
        n = at.shape[0]
        print(f"atmosphere training data: {n} steps, {tuple(at.shape)}", flush=True)

        def sample_atmos(gen):
            t = int(torch.randint(0, n - 1, (1,), generator=gen))
            return at[t][None], at[t + 1][None]

        def atmos_loss(m, x, y):
            # all channels, plus the forcing channels 65-68 (what the ocean sees) once more
            err = (m(x) - y) ** 2
            return err.mean() + err[:, 65:69].mean()

        cfga = make_config("atmos", **SIZES)
        am = random_model(cfga, a.seed + 4)
        secs = train("atmos", am, a.steps_atmos, sample_atmos,
                     atmos_loss, a.lr, a.lr_min, a.seed + 5)
        save_checkpoint(am, ckpt["atmos"], a.steps_atmos)
        print(f"atmos: {a.steps_atmos} steps in {secs:.0f} s -> {ckpt['atmos']}", flush=True)

    if not a.no_export:
        for kind in todo:
            export(kind, ckpt[kind], a.out / f"{kind}.pt")
    print(f"training done in {time.time() - total:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
