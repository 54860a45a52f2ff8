#!/usr/bin/env python3
"""Plots a neuralom run: maps of truth | prediction | error, and RMSE/ACC against lead time.

    plot_results.py OUTPUT_DIR [--variable T0] [--lead 10] [--ic 0] [--out DIR]
    plot_results.py OUTPUT_DIR --table [--leads 1,10,30] [--variables T0,S0,U0,V0,SSH,ALL]

OUTPUT_DIR is a `neuralom simulate|forecast --output` directory (metrics.csv and, with
--save-fields, results_simulation.h5 / results_forecasting.h5, or with --format netcdf
results_*.nc). Writes <out>/map_<variable>_lead<L>.png (when the fields file has the variable and
lead) and <out>/skill_<variable>.png (model, persistence, climatology), and prints the files
written. Maps come from the NetCDF file when there is one (absolute values on latitude/longitude,
read with xarray), else from the HDF5 file (anomalies on the grid's rows and columns).
--table prints model vs persistence vs climatology instead (RMSE, or nRMSE for ALL, and ACC), and
the extreme-event scores of extremes.csv when the run has them.
"""

import argparse
import csv
import math
import sys
from collections import defaultdict
from pathlib import Path


def read_metrics(path: Path):
    """{(system, variable): {lead: row}} from metrics.csv."""
    table = defaultdict(dict)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            table[(row["system"], row["variable"])][int(row["lead"])] = row
    return table


def value(row, key):
    try:
        v = float(row[key])
    except (KeyError, TypeError, ValueError):
        return math.nan
    return v


def print_table(run_dir: Path, leads, variables) -> None:
    table = read_metrics(run_dir / "metrics.csv")
    all_leads = sorted({lead for (s, v), rows in table.items() for lead in rows})
    last = all_leads[-1] if all_leads else 0
    leads = sorted({lead for lead in leads if lead in all_leads} | {last})
    systems = ("model", "persistence", "climatology")
    print(f"{run_dir}: RMSE (nRMSE for ALL) and ACC, model vs persistence vs climatology")
    header = f"{'variable':>8} {'lead':>4} | " + " ".join(f"{s[:11]:>11}" for s in systems)
    header += " | " + " ".join(f"{'acc ' + s[:7]:>11}" for s in systems) + " | best"
    print(header)
    print("-" * len(header))
    for var in variables:
        key = "nrmse" if var == "ALL" else "rmse"
        for lead in leads:
            rows = [table.get((s, var), {}).get(lead) for s in systems]
            if rows[0] is None:
                continue
            err = [value(r, key) if r else math.nan for r in rows]
            acc = [value(r, "acc") if r else math.nan for r in rows]
            finite = [(e, s) for e, s in zip(err, systems) if not math.isnan(e)]
            best = min(finite)[1] if finite else "-"
            print(f"{var:>8} {lead:>4} | " + " ".join(f"{e:11.4g}" for e in err) + " | "
                  + " ".join(f"{c:11.3f}" for c in acc) + f" | {best}")


def print_extremes(run_dir: Path, leads) -> None:
    """CSI and SEDI of extremes.csv at its lowest quantile, model vs persistence vs climatology."""
    path = run_dir / "extremes.csv"
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    q = min(float(r["quantile"]) for r in rows)
    table = {(r["system"], r["variable"], int(r["lead"])): r for r in rows if float(r["quantile"]) == q}
    variables = list(dict.fromkeys(r["variable"] for r in rows))
    systems = ("model", "persistence", "climatology")
    print(f"\n{run_dir}: extreme events beyond the {q:g} quantile (extremes.csv): CSI | SEDI")
    header = f"{'variable':>8} {'lead':>4} | " + " ".join(f"{s[:11]:>11}" for s in systems)
    header += " | " + " ".join(f"{'sedi ' + s[:6]:>11}" for s in systems)
    print(header)
    print("-" * len(header))
    for var in variables:
        for lead in leads:
            got = [table.get((s, var, lead)) for s in systems]
            if got[0] is None:
                continue
            print(f"{var:>8} {lead:>4} | " + " ".join(f"{value(r, 'csi') if r else math.nan:11.3f}" for r in got)
                  + " | " + " ".join(f"{value(r, 'sedi') if r else math.nan:11.3f}" for r in got))


def land_mask(run_dir: Path, channel, shape):
    """The run's land mask (run.json's land_mask_path) of file channel ``channel``, or None."""
    import json
    import h5py
    try:
        path = json.loads((run_dir / "run.json").read_text())
        path = _find_key(path, "land_mask_path")
        with h5py.File(path, "r") as f:
            return f["fields"][0, channel, : shape[0], : shape[1]]
    except Exception:  # no run.json, no mask: plot unmasked
        return None


def _find_key(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        for v in obj.values():
            found = _find_key(v, key)
            if found is not None:
                return found
    return None


CF_NAMES = {"S": "so", "U": "uo", "V": "vo", "T": "thetao"}


def netcdf_map(path: Path, variable: str, lead: int, ic: int):
    """(truth or None, prediction, latitudes, longitudes, title) of a channel name from a results_*.nc
    file, or None if the file does not hold it."""
    import numpy as np
    import xarray as xr

    with xr.open_dataset(path) as ds:
        if variable == "SSH":
            name, level = "zos", None
        elif variable[:1] in CF_NAMES and variable[1:].isdigit():
            name, level = CF_NAMES[variable[0]], int(variable[1:])
        else:
            return None
        if name not in ds or ic >= ds.sizes["time"]:
            return None
        days = list(ds.lead.values.astype("timedelta64[D]").astype(int))
        if lead not in days:
            return None
        sel = {"time": ic, "lead": days.index(lead)}
        if level is not None:
            depths = ds.depth.values
            # Channel labels are depths truncated to whole metres.
            matches = [k for k, d in enumerate(depths) if int(np.floor(d)) == level]
            sel["depth"] = matches[0] if matches else int(np.abs(depths - level).argmin())
        pred = ds[name].isel(sel).values.astype(np.float64)
        truth = ds["truth_" + name].isel(sel).values.astype(np.float64) if "truth_" + name in ds else None
        if np.isnan(pred).all():
            return None
        kind = "anomaly" if ds.attrs.get("neuralom_values") == "anomalies" else ds[name].attrs.get("units", "")
        date = str(ds.valid_time.isel(time=ic, lead=days.index(lead)).values)[:10]
        title = f"{variable} [{kind}] valid {date}"
        return truth, pred, ds.latitude.values, ds.longitude.values, title


def draw_map(out: Path, variable: str, lead: int, ic: int, truth, pred, extent, title, origin):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = []
    lo, hi = np.nanmin(pred), np.nanmax(pred)
    if truth is not None:
        lo, hi = np.nanmin(truth), np.nanmax(truth)
        panels.append((truth, "truth", dict(vmin=lo, vmax=hi, cmap="viridis")))
    panels.append((pred, "prediction", dict(vmin=lo, vmax=hi, cmap="viridis")))
    if truth is not None:
        err = pred - truth
        lim = np.nanmax(np.abs(err)) or 1.0
        panels.append((err, "prediction - truth", dict(vmin=-lim, vmax=lim, cmap="RdBu_r")))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.2), constrained_layout=True,
                             squeeze=False)
    for ax, (data, label, kw) in zip(axes[0], panels):
        im = ax.imshow(np.ma.masked_invalid(data), origin=origin, extent=extent, aspect="auto", **kw)
        ax.set_title(f"{title} {label}, lead {lead} d, IC {ic}", fontsize=8)
        if extent is None:
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.set_xlabel("longitude (°E)")
            ax.set_ylabel("latitude (°N)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    path = out / f"map_{variable}_lead{lead}.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot(run_dir: Path, variable: str, lead: int, ic: int, out: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    written = []
    netcdf = [p for p in (run_dir / "results_simulation.nc", run_dir / "results_forecasting.nc") if p.exists()]
    fields = [p for p in (run_dir / "results_simulation.h5", run_dir / "results_forecasting.h5")
              if p.exists()]
    if netcdf and variable != "ALL":
        found = netcdf_map(netcdf[0], variable, lead, ic)
        if found is None:
            print(f"note: {netcdf[0].name} has no {variable} at lead {lead} for IC {ic}; no map", file=sys.stderr)
        else:
            truth, pred, lat, lon, title = found
            dlat = (lat[-1] - lat[0]) / max(len(lat) - 1, 1)
            dlon = (lon[-1] - lon[0]) / max(len(lon) - 1, 1)
            extent = [lon[0] - dlon / 2, lon[-1] + dlon / 2, lat[0] - dlat / 2, lat[-1] + dlat / 2]
            # Row 0 at extent[2]: origin "lower" puts it at the bottom whatever the sign of the step.
            written.append(draw_map(out, variable, lead, ic, truth, pred, extent, title, "lower"))
    elif fields:
        import h5py
        with h5py.File(fields[0], "r") as f:
            pred = f["predicted"]
            names = [n.decode() if isinstance(n, bytes) else str(n)
                     for n in np.atleast_1d(pred.attrs.get("variables", []))]
            leads = [int(x) for x in np.atleast_1d(pred.attrs.get("leads", range(pred.shape[1])))]
            if variable in names and lead in leads and ic < pred.shape[0]:
                c, l = names.index(variable), leads.index(lead)
                p = np.asarray(pred[ic, l, c], dtype=np.float64)
                t = np.asarray(f["ground_truth"][ic, l, c], dtype=np.float64)
                land = ~np.isfinite(t) | ~np.isfinite(p)
                mask = land_mask(run_dir, int(np.atleast_1d(pred.attrs["channels"])[c])
                                 if "channels" in pred.attrs else None, t.shape)
                if mask is not None:
                    land |= mask == 0
                p[land], t[land] = np.nan, np.nan
                written.append(draw_map(out, variable, lead, ic, t, p, None, variable, "upper"))
            else:
                print(f"note: {fields[0].name} has no {variable} at lead {lead} for IC {ic}; "
                      "no map", file=sys.stderr)

    metrics = run_dir / "metrics.csv"
    if metrics.exists():
        table = read_metrics(metrics)
        key = "nrmse" if variable == "ALL" else "rmse"
        fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
        for system, style in (("model", "-o"), ("persistence", "--"), ("climatology", ":")):
            rows = table.get((system, variable))
            if not rows:
                continue
            ls = sorted(rows)
            axes[0].plot(ls, [value(rows[x], key) for x in ls], style, ms=3, label=system)
            acc = [value(rows[x], "acc") for x in ls]
            if not all(math.isnan(a) for a in acc):
                axes[1].plot(ls, acc, style, ms=3, label=system)
        axes[0].set_ylabel("nRMSE" if variable == "ALL" else "RMSE")
        axes[1].set_ylabel("ACC")
        for ax in axes:
            ax.set_xlabel("lead (days)")
            ax.grid(alpha=0.3)
            ax.legend()
            ax.set_title(f"{variable}: {run_dir.name}")
        path = out / f"skill_{variable}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run_dir", type=Path, metavar="OUTPUT_DIR")
    p.add_argument("--variable", default="T0")
    p.add_argument("--lead", type=int, default=10)
    p.add_argument("--ic", type=int, default=0, help="initial condition (position in the run)")
    p.add_argument("--out", type=Path, help="where to write the PNGs (default: OUTPUT_DIR/plots)")
    p.add_argument("--table", action="store_true", help="print the verification table instead")
    p.add_argument("--leads", default="1,10,30")
    p.add_argument("--variables", default="T0,S0,U0,V0,SSH,ALL")
    a = p.parse_args(argv)
    if not (a.run_dir / "metrics.csv").exists():
        print(f"error: {a.run_dir}/metrics.csv not found (not a neuralom output directory?)",
              file=sys.stderr)
        return 2
    if a.table:
        leads = [int(x) for x in a.leads.split(",")]
        print_table(a.run_dir, leads, a.variables.split(","))
        print_extremes(a.run_dir, leads)
        return 0
    for path in plot(a.run_dir, a.variable, a.lead, a.ic, a.out or a.run_dir / "plots"):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
