#!/usr/bin/env python3
"""What a fused edge kernel could save on this CPU: the memory-bound steps of one edge chunk.

    python3 scripts/bench_edge_ops.py [--edges 103563] [--hidden 432] [--threads 2]

Each edge MLP of the exported networks starts with ``silu((s[src] + e) + d[dst])``: two gathers
(index_select), two in-place adds and an in-place SiLU over an ``[E, H]`` chunk, five passes over
it. A fused kernel would make one. This times the five steps as the engine runs them (outputs in
reused buffers, as neuralom's host buffer cache provides; and, for comparison, in fresh memory as
plain PyTorch allocates it), and a plain copy of the chunk (one read and one write of its bytes),
the least a single fused pass costs. Defaults: a full-size decoder chunk (neuralom's automatic
edge chunk at 360x720, hidden 432), indices as in the decoder (sources among the 10,242 mesh
nodes, destinations sorted over the 259,200 grid nodes).
"""
import argparse
import time

import torch


def best_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times) * 1e3


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--edges", type=int, default=103563)
    p.add_argument("--hidden", type=int, default=432)
    p.add_argument("--src-nodes", type=int, default=10242)
    p.add_argument("--dst-nodes", type=int, default=259200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    e = torch.randn(a.edges, a.hidden, generator=g)
    s = torch.randn(a.src_nodes, a.hidden, generator=g)
    d = torch.randn(a.dst_nodes, a.hidden, generator=g)
    src = torch.randint(0, a.src_nodes, (a.edges,), generator=g)
    dst = torch.randint(0, a.dst_nodes, (a.edges,), generator=g).sort()[0]
    h = torch.empty(a.edges, a.hidden)
    t = torch.empty(a.edges, a.hidden)

    def reused():
        torch.index_select(s, 0, src, out=h)
        h.add_(e)
        torch.index_select(d, 0, dst, out=t)
        h.add_(t)
        torch.nn.functional.silu(h, inplace=True)

    def fresh():
        x = s.index_select(0, src).add_(e)
        torch.nn.functional.silu(x.add_(d.index_select(0, dst)), inplace=True)

    steps = {
        "gather (index_select, reused output)": lambda: torch.index_select(s, 0, src, out=h),
        "gather (index_select, fresh output)": lambda: s.index_select(0, src),
        "add_": lambda: h.add_(e),
        "silu_": lambda: torch.nn.functional.silu(h, inplace=True),
        "copy (one pass: the floor of a fused kernel)": lambda: h.copy_(e),
        "all five steps, reused buffers (as in neuralom)": reused,
        "all five steps, fresh buffers (plain PyTorch)": fresh,
    }
    print(f"[{a.edges} x {a.hidden}] float32 chunk ({a.edges * a.hidden * 4 / 2**20:.0f} MiB), "
          f"torch {torch.__version__}, {a.threads} threads, best of {a.repeat}:")
    for name, fn in steps.items():
        print(f"  {name:50s} {best_ms(fn, a.repeat):8.1f} ms")


if __name__ == "__main__":
    main()
