#!/usr/bin/env python3
"""This CPU's ceilings for the roofline in docs/performance.md, with the torch this interpreter has.

    python3 scripts/roofline_cpu.py [--threads N]

Prints one JSON line: float32 GEMM throughput (GFLOP/s, best of 3) at the network's shapes
(full size: 259,200 grid nodes x 432 -> 432, the decoder's concatenated 864 -> 432, the mesh's
81,900 edges; medium: 64,800 x 128 -> 128), and memory bandwidth (GB/s, bytes read + written) of a
1 GiB copy and an in-place add.
"""
import argparse
import json
import time

import torch


def best(f, repeats=3):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = {"torch": torch.__version__, "threads": a.threads}
    for rows, k, n in [(259200, 432, 432), (259200, 864, 432), (81900, 432, 432), (64800, 128, 128)]:
        x, w, b = torch.randn(rows, k), torch.randn(n, k), torch.randn(n)
        t = best(lambda: torch.nn.functional.linear(x, w, b))
        out[f"gemm_{rows}x{k}x{n}_gflops"] = round(2 * rows * k * n / t / 1e9, 1)
    x = torch.randn(256 * 1024 * 1024)  # 1 GiB of float32
    y = torch.empty_like(x)
    out["copy_GBps"] = round(2 * x.numel() * 4 / best(lambda: y.copy_(x)) / 1e9, 1)
    out["inplace_add_GBps"] = round(2 * x.numel() * 4 / best(lambda: x.add_(1.0)) / 1e9, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
