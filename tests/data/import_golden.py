#!/usr/bin/env python3
"""Copy the reference golden cases from ../shared/golden into tests/data/golden.

The golden cases were produced by running the reference NeuralOM code (see
tests/data/README.md). This script copies the files the test-suite needs and
rewrites HDF5 files with gzip compression (values are copied bit-for-bit,
only the storage layout changes) to keep the repository small.

Usage: tests/data/import_golden.py [SRC=../shared/golden] [DST=tests/data/golden]
"""
import shutil
import sys
from pathlib import Path

import h5py

FILES = {
    "ocean_small": [
        "summary.json", "graph.npz", "x.npy", "mask.npy", "y1_raw.npy", "y1.npy", "y.npy",
        "stage1_best_ckpt.tar", "stage2_best_ckpt.tar", "results_simulation.h5",
        "data/mean_s_t_ssh.npy", "data/std_s_t_ssh.npy", "data/climate_mean_s_t_ssh.npy",
        "data/land_mask.h5", "data/test/2020.h5",
    ],
    "ocean_small_forecasting": [
        "summary.json", "atmos_best_ckpt.tar", "results_forecasting.h5",
        "data/mean_atmos.npy", "data/std_atmos.npy", "data/test_atmos/2020.h5",
    ],
    "atmos_small": [
        "summary.json", "atmos_best_ckpt.tar", "graph.npz", "x.npy",
        "y_substep1.npy", "y_substep2.npy", "y_substep3.npy", "y_substep4.npy",
    ],
}


def copy_h5(src: Path, dst: Path) -> None:
    """Copy every dataset of src into dst with gzip compression, keeping dtype, shape and maxshape."""
    with h5py.File(src, "r") as fin, h5py.File(dst, "w") as fout:
        for name, ds in fin.items():
            fout.create_dataset(name, data=ds[...], dtype=ds.dtype, maxshape=ds.maxshape,
                                chunks=True, compression="gzip", compression_opts=4, shuffle=True)


def main() -> int:
    here = Path(__file__).resolve().parent
    src_root = Path(sys.argv[1]) if len(sys.argv) > 1 else here.parents[2] / "shared" / "golden"
    dst_root = Path(sys.argv[2]) if len(sys.argv) > 2 else here / "golden"
    if not src_root.is_dir():
        print(f"error: golden cases not found at {src_root}", file=sys.stderr)
        return 2
    for case, files in FILES.items():
        for rel in files:
            src, dst = src_root / case / rel, dst_root / case / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".h5":
                copy_h5(src, dst)
            else:
                shutil.copyfile(src, dst)
            print(f"{case}/{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
