#!/usr/bin/env python3
"""Operator profile of one forward of an exported stage, as the engine runs it on the CPU.

    python3 scripts/profile_stage.py MODEL.pt [--threads N] [--edge-chunk N] [--static-cache full|light|off]
                                      [--land-mask land_mask.h5] [--shapes]

Loads the TorchScript archive, switches to the plain graph executor (as neuralom does on the CPU),
sets the edge chunk, the output nodes (with --land-mask: the points that are ocean in some output
channel, as neuralom does unless --decode-land) and the static cache like `neuralom simulate`,
runs one warm-up forward
of a random input of the model's declared shape, then profiles a second one and prints the time
and the top operators by self CPU time. To see the cost of fresh memory (the kernel zeroing pages
that neuralom's --host-cache avoids), compare with
GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4611686018427387904, under which
glibc keeps freed memory for reuse.
"""
import argparse
import json
import time
import zipfile

import torch


def metadata(path):
    with zipfile.ZipFile(path) as z:
        name = next(n for n in z.namelist() if n.endswith("extra/neuralom.json"))
        return json.loads(z.read(name))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--edge-chunk", type=int, default=100000)
    p.add_argument("--static-cache", choices=["full", "light", "off", "on"], default="light",
                   help="as neuralom's --static-cache (default: light, the CPU default; on = full)")
    p.add_argument("--land-mask", help="compute outputs only where this mask (reference layout) has ocean in some "
                   "output channel (file channels 0..C_out-1), as neuralom does by default")
    p.add_argument("--rows", type=int, default=22)
    p.add_argument("--shapes", action="store_true", help="one row per operator and input shapes")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch._C._set_graph_executor_optimize(False)
    m = metadata(a.model)
    module = torch.jit.load(a.model).eval()
    module.set_edge_chunk(a.edge_chunk)
    if a.land_mask:
        import h5py
        height, width = m["grid"]
        with h5py.File(a.land_mask, "r") as f:
            ocean = f["fields"][0, : m["out_channels"], :height, :width] != 0
        nodes = torch.from_numpy(ocean.any(axis=0).reshape(-1).nonzero()[0].astype("int64"))
        module.set_output_nodes(nodes)
        print(f"output nodes: {nodes.numel()} of {height * width}")
    if a.static_cache in ("full", "on"):
        module.build_static_cache()
    elif a.static_cache == "light":
        module.build_light_static_cache()
    x = torch.randn(1, m["in_channels"], m["grid"][0], m["grid"][1])
    with torch.no_grad():
        module(x)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], with_flops=True,
                                    record_shapes=a.shapes) as prof:
            t = time.perf_counter()
            module(x)
            seconds = time.perf_counter() - t
    flops = sum(e.flops for e in prof.key_averages() if e.flops)
    print(f"forward: {seconds:.3f} s (torch {torch.__version__}, {a.threads} threads); "
          f"matrix products: {flops / 1e12:.3f} TFLOP (the profiler's count)")
    print(prof.key_averages(group_by_input_shape=a.shapes).table(sort_by="self_cpu_time_total", row_limit=a.rows))


if __name__ == "__main__":
    main()
