// Native fused CPU kernels for the exported networks' memory-bound steps, and the pass that puts
// them into a loaded TorchScript module.
//
// Every edge MLP of the networks starts with  h = silu((s[src] + e) + d[dst]):  two gathers of
// node projections onto the edges, two in-place adds and an in-place SiLU, five passes over an
// [E, H] chunk. The operator neuralom::edge_silu(s, src, e, d, dst) computes it in one pass per
// block of rows (gather and sum straight into the output; the SiLU while the block is in cache),
// with the same float32 additions in the same order. The SiLU is ATen's own, applied block by
// block: where that splits the work differently from one SiLU over the whole chunk, an element
// may take ATen's scalar path instead of its vector path or the reverse, and those differ by up
// to 2.2e-7 relative (about 2 ulp; measured on 700,000 values).
#pragma once

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace torch::jit {
struct Module;
}  // namespace torch::jit

namespace neuralom {

/// Rows per block of neuralom::edge_silu: the block's output (4096 x 432 floats = 7 MiB at full
/// size) is still in the last-level cache when the SiLU runs over it.
constexpr int64_t kEdgeSiluBlockRows = 4096;

/// silu((s[src] + e) + d[dst]) as a new tensor: `s` [N_s, H], `d` [N_d, H], `e` [E, H] float32,
/// `src`, `dst` [E] int64 (indices checked: c10::Error if out of range). Other dtypes or layouts
/// take the unfused ATen operators.
at::Tensor edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                     const at::Tensor& dst);

/// Inlines `module`'s forward and replaces each  index_select(s, 0, src) → add_(·, e) →
/// index_select(d, 0, dst) → add_(·, ·) → silu_(·)  sequence in it by neuralom::edge_silu.
/// Call it before the module's forward first runs. Returns the number of sequences replaced
/// (0 for a network without them: nothing else changes).
int fuse_edge_kernels(torch::jit::Module& module);

}  // namespace neuralom
