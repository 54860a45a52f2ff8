// Native fused CPU kernels for the exported networks' memory-bound steps, and the pass that puts
// them into a loaded TorchScript module.
//
// Every edge MLP of the networks starts with  h = silu((s[src] + e) + d[dst]):  two gathers of
// node projections onto the edges, two in-place adds and an in-place SiLU, five passes over an
// [E, H] chunk. The operator neuralom::edge_silu(s, src, e, d, dst) computes it in one pass per
// block of rows (gather and sum straight into the output; the SiLU while the block is in cache),
// with the same float32 additions in the same order; only the SiLU, ATen's own applied block by
// block, may round an element differently where ATen splits the work differently (1 ulp).
#pragma once

#include <ATen/core/Tensor.h>

namespace torch::jit {
struct Module;
}  // namespace torch::jit

namespace neuralom {

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
