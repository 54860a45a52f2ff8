// fuse_kernels on small TorchScript modules written like the exporter's: the sequences it must
// replace (in either branch of the dtype-dependent LayerNorm), those it must leave, and the same
// results as the module it rewrote.
#include "neuralom/model/kernel_fusion.h"

#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/script.h>

#include "neuralom/model/fused_kernels.h"

namespace neuralom {
namespace {

// The exporter's LayerNorm (scripts/neuralom_export/layers.py): float32 statistics for any input.
// (6 is torch.float32, which a module defined from C++ cannot name.)
const char* const kLayerNorm = R"JIT(
def norm(self, x, w, b):
    if x.dtype == 6:
        return torch.layer_norm(x, [x.size(-1)], w, b, 1e-5)
    return torch.layer_norm(x.float(), [x.size(-1)], w.float(), b.float(), 1e-5).to(x.dtype)
)JIT";

torch::jit::Module module_with(const std::string& forward) {
  torch::jit::Module m("Test");
  m.define(std::string(kLayerNorm) + forward);
  return m;
}

struct Inputs {
  at::Tensor x, r, w, b, agg, index;
  /// Copies (the modules add into `agg` in place).
  std::vector<torch::jit::IValue> as_ivalues(at::ScalarType dtype) const {
    const auto copy = [dtype](const at::Tensor& t) { return t.to(dtype, /*non_blocking=*/false, /*copy=*/true); };
    return {copy(x), copy(r), copy(w), copy(b), copy(agg), index};
  }
};

Inputs inputs() {
  at::manual_seed(17);
  const int64_t edges = 2 * kLayerNormBlockRows + 9;
  return {at::randn({edges, 19}), at::randn({edges, 19}), at::randn({19}), at::randn({19}), at::randn({50, 19}),
          at::randint(0, 50, {edges}, at::kLong)};
}

// A residual update and a scatter-sum, as the exporter's blocks end.
const char* const kBoth = R"JIT(
def forward(self, x, r, w, b, agg, index):
    y = self.norm(x, w, b).add_(r)
    agg.index_add_(0, index, self.norm(x, w, b))
    return y, agg
)JIT";

TEST(KernelFusionTest, ReplacesTheResidualSumAndTheScatterSumOfALayerNorm) {
  torch::jit::Module fused = module_with(kBoth);
  const FusedSequences counts = fuse_kernels(fused);
  EXPECT_EQ(counts.layer_norm_add, 1);
  EXPECT_EQ(counts.layer_norm_index_add, 1);
  EXPECT_EQ(counts.edge_silu, 0);
  EXPECT_EQ(counts.total(), 2);
  const std::string graph = fused.get_method("forward").graph()->toString();
  EXPECT_NE(graph.find(fused_operator_names().layer_norm_add), std::string::npos) << graph;
  EXPECT_NE(graph.find(fused_operator_names().layer_norm_index_add), std::string::npos) << graph;
}

TEST(KernelFusionTest, BothBranchesComputeWhatTheyDidBefore) {
  // float32 takes the fused operators (bit for bit the same), float64 the other branch, which
  // keeps the exported consumers.
  const Inputs in = inputs();
  for (const at::ScalarType dtype : {at::kFloat, at::kDouble}) {
    torch::jit::Module plain = module_with(kBoth);
    torch::jit::Module fused = module_with(kBoth);
    fuse_kernels(fused);
    const auto expected = plain.forward(in.as_ivalues(dtype)).toTuple();
    const auto got = fused.forward(in.as_ivalues(dtype)).toTuple();
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_TRUE(at::equal(got->elements()[i].toTensor(), expected->elements()[i].toTensor()))
          << c10::toString(dtype) << " output " << i;
      EXPECT_EQ(got->elements()[i].toTensor().scalar_type(), dtype);
    }
  }
}

TEST(KernelFusionTest, LeavesALayerNormThatIsUsedTwiceOrNotByTheNextOperator) {
  // The first LayerNorm's output is returned too; the second is used before its residual sum; the
  // third is scattered with alpha 2.
  const char* const forward = R"JIT(
def forward(self, x, r, w, b, agg, index):
    y = self.norm(x, w, b)
    z = y.add_(r)
    u = self.norm(r, w, b)
    v = u * 2.0
    u.add_(x)
    s = self.norm(x, w, b)
    agg.index_add_(0, index, s, alpha=2)
    return z, y, v, u, agg
)JIT";
  torch::jit::Module plain = module_with(forward);
  torch::jit::Module m = module_with(forward);
  EXPECT_EQ(fuse_kernels(m).total(), 0);
  const Inputs in = inputs();
  const auto expected = plain.forward(in.as_ivalues(at::kFloat)).toTuple();
  const auto got = m.forward(in.as_ivalues(at::kFloat)).toTuple();
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(at::equal(got->elements()[i].toTensor(), expected->elements()[i].toTensor())) << i;
  }
}

TEST(KernelFusionTest, AModuleWithoutForwardIsLeftAlone) {
  torch::jit::Module m("Empty");
  EXPECT_EQ(fuse_kernels(m).total(), 0);
}

}  // namespace
}  // namespace neuralom
