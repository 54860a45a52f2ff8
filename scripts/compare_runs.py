#!/usr/bin/env python3
"""Compares two neuralom runs of the same initial conditions (e.g. two graphs, two precisions).

    compare_runs.py RUN_A RUN_B [--labels a,b] [--leads 1,10,30] [--variables T0,S0,U0,V0,SSH]

RUN_A and RUN_B are `--output` directories of `neuralom simulate|forecast` with `--save-fields`
(results_*.h5) and metrics.csv. Prints, per variable, the maximum and RMS difference of the
predicted fields over every saved IC, lead and ocean point (physical units; land is 0 in both),
the same for the depth-stacked families S, U, V, T, and then each run's RMSE/ACC at the given
leads with the change (B - A); the ALL row is the mean normalised RMSE and mean ACC.
"""

import argparse
import csv
import sys
from pathlib import Path

import h5py
import numpy as np


def fields(run: Path):
    """(predicted [N, P, C, H, W] float64, channel names) of the run's results file."""
    files = sorted(run.glob("results_*.h5"))
    if not files:
        raise SystemExit(f"error: {run} has no results_*.h5 (run with --save-fields)")
    with h5py.File(files[0], "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f["predicted"].attrs["variables"]]
        return f["predicted"][...].astype(np.float64), names


def metrics(run: Path):
    """{(system, lead, variable): (rmse-or-nrmse, acc)} of the run's metrics.csv."""
    table = {}
    with open(run / "metrics.csv", newline="") as f:
        for row in csv.DictReader(f):
            key = "nrmse" if row["variable"] == "ALL" else "rmse"
            table[(row["system"], int(row["lead"]), row["variable"])] = (float(row[key]), float(row["acc"]))
    return table


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run_a", type=Path)
    p.add_argument("run_b", type=Path)
    p.add_argument("--labels", default="A,B")
    p.add_argument("--leads", default="1,10,30")
    p.add_argument("--variables", default="T0,S0,U0,V0,SSH")
    a = p.parse_args(argv)
    label_a, label_b = a.labels.split(",")
    pred_a, names = fields(a.run_a)
    pred_b, names_b = fields(a.run_b)
    if names != names_b or pred_a.shape != pred_b.shape:
        raise SystemExit(f"error: the runs saved different fields: {pred_a.shape} vs {pred_b.shape}")
    diff = pred_b - pred_a
    print(f"\n{a.run_a.name}: {label_b} - {label_a}, {pred_a.shape[0]} ICs x {pred_a.shape[1]} leads "
          f"(fields in physical units)")
    print(f"{'variable':10s} {'max |diff|':>12s} {'RMS diff':>12s} {'RMS field':>12s}")
    groups = [(v, [names.index(v)]) for v in a.variables.split(",") if v in names]
    for family in "SUVT":
        groups.append((f"{family}*", [i for i, n in enumerate(names) if n[0] == family and n != "SSH"]))
    for name, channels in groups:
        d, f = diff[:, :, channels], pred_a[:, :, channels]
        ocean = f != 0  # land is 0 in the reference layout
        rms = np.sqrt(np.mean(d[ocean] ** 2)) if ocean.any() else 0.0
        print(f"{name:10s} {np.abs(d).max():12.3e} {rms:12.3e} {np.sqrt(np.mean(f[ocean] ** 2)):12.3e}")

    ma, mb = metrics(a.run_a), metrics(a.run_b)
    leads = [int(x) for x in a.leads.split(",")]
    print(f"\nskill (RMSE; ALL: normalised RMSE) and ACC, model")
    print(f"{'lead':>4s} {'variable':8s} {label_a + ' RMSE':>14s} {label_b + ' RMSE':>14s} {'change':>10s} "
          f"{label_a + ' ACC':>13s} {label_b + ' ACC':>13s} {'change':>10s}")
    for lead in leads:
        for variable in a.variables.split(",") + ["ALL"]:
            key = ("model", lead, variable)
            if key not in ma or key not in mb:
                continue
            (ra, ca), (rb, cb) = ma[key], mb[key]
            print(f"{lead:4d} {variable:8s} {ra:14.5f} {rb:14.5f} {rb - ra:+10.2e} {ca:13.5f} {cb:13.5f} {cb - ca:+10.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
