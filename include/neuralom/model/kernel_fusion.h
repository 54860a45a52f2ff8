// The pass that puts the fused operators of model/fused_kernels into a loaded TorchScript
// module, in place of the exported operator sequences they compute.
#pragma once

namespace torch::jit {
struct Module;
}  // namespace torch::jit

namespace neuralom {

/// How many sequences of each kind a module's forward had replaced.
struct FusedSequences {
  int edge_silu = 0;             ///< index_select, add_, index_select, add_, silu_
  int layer_norm_add = 0;        ///< LayerNorm, then add_ of a residual
  int layer_norm_index_add = 0;  ///< LayerNorm, then index_add_ of it onto nodes
  int total() const { return edge_silu + layer_norm_add + layer_norm_index_add; }
};

/// Inlines `module`'s forward and replaces, in every block of it:
/// * each  index_select(s, 0, src) → add_(·, e) → index_select(d, 0, dst) → add_(·, ·) → silu_(·)
///   by neuralom::edge_silu;
/// * each LayerNorm whose only use is the next operator, an add_ of a residual (alpha 1) or an
///   index_add_ of it along dimension 0 (alpha 1), by neuralom::layer_norm_add or
///   neuralom::layer_norm_index_add_. The exporter's LayerNorm branches on the input's dtype
///   (float32 statistics for bf16 inputs): the float32 branch gets the fused operator, the other
///   branch the consumer it had, so either branch computes what it did.
/// Call it before the module's forward first runs. A network without these sequences is left as
/// it was, apart from the inlining.
FusedSequences fuse_kernels(torch::jit::Module& module);

}  // namespace neuralom
