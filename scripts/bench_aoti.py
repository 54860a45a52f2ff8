#!/usr/bin/env python3
"""AOTInductor against eager on this CPU: one stage's forward of one sample, compiled ahead of time.

    .venv-torch2/bin/python scripts/bench_aoti.py [--height 180 --width 360 --hidden 128
        --layers 16 --mesh-level 4] [--threads 2] [--repeat 3] [--out DIR]

Builds a random-init stage-1 network of the exporter (scripts/neuralom_export) at the given size,
builds its full static cache, exports its forward of one [1, C, H, W] sample with torch.export
and compiles it with torch._inductor.aoti_compile_and_package into a .pt2 package. Prints the
export and compile times, the best of --repeat forwards eager and from the loaded package, the
vector ISA Inductor compiled for, and max |AOTI - eager| absolute and relative to max |eager|:
what it would take to make AOTInductor packages an engine backend (issue 17 asks for <= 1e-5).

Needs torch >= 2.6 (the torch-2.x flavour's .venv-torch2) and a C++ compiler.

Inductor decides whether it may vectorise by compiling a probe and loading it in a fresh Python
without torch loaded; with PyPI's torch wheels that load fails (the probe needs libtorch_cpu's
Sleef symbols), so Inductor emits scalar loops. The probe is skipped here (cpp.vec_isa_ok), and
libtorch_cpu is loaded with RTLD_GLOBAL so that this process can load the package (the engine,
linked with LibTorch, would not need that). Packages are then compiled for this CPU's ISA
(AVX-512 here) and only run on CPUs that have it.
"""
import argparse
import ctypes
import os
import sys
import tempfile
import time

import torch

ctypes.CDLL(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"), mode=ctypes.RTLD_GLOBAL)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from neuralom_export.config import make_config  # noqa: E402
from neuralom_export.models import random_model  # noqa: E402
from roofline_cpu import best as best_s  # noqa: E402  (the best of N timed calls)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--height", type=int, default=180)
    p.add_argument("--width", type=int, default=360)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=16)
    p.add_argument("--mesh-level", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="directory for the package (default: a temporary one, removed)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)

    config = make_config("stage1", input_res=(a.height, a.width), hidden_dim=a.hidden,
                         processor_layers=a.layers, mesh_level=a.mesh_level)
    model = random_model(config, a.seed)
    model.build_static_cache()
    x = torch.sin(torch.arange(config.in_channels * a.height * a.width, dtype=torch.float32) * 0.618034)
    x = x.reshape(1, config.in_channels, a.height, a.width)
    print(f"stage 1, {a.height}x{a.width}, hidden {a.hidden}, {a.layers} layers, mesh level {a.mesh_level}, "
          f"{a.threads} threads, torch {torch.__version__}")
    with torch.inference_mode():
        eager_s = best_s(lambda: model(x), a.repeat)
        reference = model(x)
    print(f"eager forward: {eager_s:.3f} s (best of {a.repeat})")

    t = time.perf_counter()
    program = torch.export.export(model, (x,))
    print(f"torch.export: {time.perf_counter() - t:.1f} s")
    with tempfile.TemporaryDirectory() as scratch:
        package = os.path.join(a.out or scratch, "stage1.pt2")
        t = time.perf_counter()
        torch._inductor.aoti_compile_and_package(program, package_path=package,
                                                 inductor_configs={"cpp.vec_isa_ok": True})
        print(f"aoti_compile_and_package: {time.perf_counter() - t:.1f} s, "
              f"{os.path.getsize(package) / 2**20:.1f} MiB")
        loaded = torch._inductor.aoti_load_package(package)
        print(f"compiled for: {loaded.get_metadata().get('AOTI_CPU_ISA', '?')}")
        with torch.inference_mode():
            aoti_s = best_s(lambda: loaded(x), a.repeat)
            out = loaded(x)
    print(f"AOTI forward: {aoti_s:.3f} s (best of {a.repeat}); eager / AOTI = {eager_s / aoti_s:.2f}")
    diff = (out - reference).abs().max().item()
    scale = reference.abs().max().item()
    print(f"max |AOTI - eager| = {diff:.3g} (max |eager| {scale:.3g}, relative {diff / max(scale, 1.0):.3g})")


if __name__ == "__main__":
    main()
