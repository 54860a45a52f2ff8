// The fused operators' CUDA kernels (model/detail/cuda_fused_ops.h) against the unfused ATen CUDA
// operators they replace, and through the dispatcher as a rewritten TorchScript graph calls them.
// CUDA builds only; each test that runs a kernel is skipped where no GPU is visible
// (scripts/gpu_check.sh runs the golden rollouts with these kernels on one;
// cuda_fused_rows_test.cpp runs their arithmetic on the host).
#include "model/detail/cuda_fused_ops.h"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/cuda/CUDAFunctions.h>
#include <gtest/gtest.h>

#include "model/detail/cuda_fused_rows.h"
#include "model/detail/fused_op_layouts.h"
#include "neuralom/model/fused_kernels.h"

namespace neuralom::detail {
namespace {

#define SKIP_WITHOUT_A_GPU() \
  if (c10::cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device"

const at::TensorOptions kGpu = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA);

/// max |a - b| / max(1, max |b|), in float64 on the host.
double relative_difference(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kCPU, at::kDouble);
  const at::Tensor y = b.to(at::kCPU, at::kDouble);
  return (x - y).abs().max().item<double>() / std::max(1.0, y.abs().max().item<double>());
}

/// A contiguous [rows, width] float32 GPU tensor whose data starts 4 bytes past an aligned
/// address: the kernels then read it one float at a time instead of as float4s.
at::Tensor misaligned(const at::Tensor& t) {
  at::Tensor storage = at::empty({t.numel() + 1}, t.options());
  at::Tensor view = storage.narrow(0, 1, t.numel()).view(t.sizes());
  view.copy_(t);
  return view;
}

/// Turns deterministic algorithms on for a scope (as --deterministic does for a run).
class DeterministicAlgorithms {
 public:
  DeterministicAlgorithms() : before_(at::globalContext().deterministicAlgorithms()) {
    at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  }
  ~DeterministicAlgorithms() { at::globalContext().setDeterministicAlgorithms(before_, /*warn_only=*/false); }
  DeterministicAlgorithms(const DeterministicAlgorithms&) = delete;
  DeterministicAlgorithms& operator=(const DeterministicAlgorithms&) = delete;

 private:
  bool before_;
};

TEST(CudaFusedOps, AreRegisteredForCudaTensors) {
  // What a rewritten TorchScript graph dispatches to on a GPU; no GPU needed to see it.
  for (const char* name : {fused_operator_names().edge_silu, fused_operator_names().layer_norm_add,
                           fused_operator_names().layer_norm_index_add}) {
    const auto op = c10::Dispatcher::singleton().findSchema({name, ""});
    ASSERT_TRUE(op.has_value()) << name;
    EXPECT_TRUE(op->hasKernelForDispatchKey(c10::DispatchKey::CUDA)) << name;
    EXPECT_TRUE(op->hasKernelForDispatchKey(c10::DispatchKey::CPU)) << name;
  }
}

// Below: the full-size hidden width (432, read as float4s), an odd one (37, one float at a time)
// and a narrow one read as float4s (20: five chunks, so most lanes of a warp have none).
const std::vector<int64_t> kWidths{432, 37, 20};

TEST(CudaFusedOps, EdgeSiluEqualsTheUnfusedOperators) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(11);
  for (const int64_t width : kWidths) {
    const int64_t edges = 20000;
    const at::Tensor s = at::randn({300, width}, kGpu);
    const at::Tensor d = at::randn({5000, width}, kGpu);
    const at::Tensor e = at::randn({edges, width}, kGpu);
    const at::Tensor src = at::randint(0, 300, {edges}, kGpu.dtype(at::kLong));
    const at::Tensor dst = at::randint(0, 5000, {edges}, kGpu.dtype(at::kLong));
    const at::Tensor reference = unfused_edge_silu(s, src, e, d, dst);
    const at::Tensor fused = cuda_edge_silu(s, src, e, d, dst);
    ASSERT_TRUE(fused.is_cuda());
    ASSERT_EQ(fused.sizes(), reference.sizes());
    // The same float32 additions in the same order; the SiLU's exp may round differently.
    EXPECT_LE(relative_difference(fused, reference), 1e-6) << "width " << width;
    // Misaligned rows take the scalar path and compute the same.
    EXPECT_LE(relative_difference(cuda_edge_silu(misaligned(s), src, misaligned(e), d, dst), reference), 1e-6);
  }
}

TEST(CudaFusedOps, EdgeSiluOfNoEdgesIsEmpty) {
  SKIP_WITHOUT_A_GPU();
  const at::Tensor s = at::randn({3, 8}, kGpu);
  const at::Tensor none = at::empty({0}, kGpu.dtype(at::kLong));
  const at::Tensor out = cuda_edge_silu(s, none, at::empty({0, 8}, kGpu), s, none);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{0, 8}));
}

TEST(CudaFusedOps, LayerNormAddEqualsTheUnfusedOperators) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(12);
  for (const int64_t width : kWidths) {
    // 3-D, as a node update's [B, N, H]; shifted and scaled so that the mean matters.
    const at::Tensor x = at::randn({2, 7001, width}, kGpu).mul_(3.0).add_(5.0);
    const at::Tensor residual = at::randn({2, 7001, width}, kGpu);
    const at::Tensor w = at::randn({width}, kGpu);
    const at::Tensor b = at::randn({width}, kGpu);
    const at::Tensor reference = unfused_layer_norm(x, width, w, b, 1e-5).add_(residual);
    const at::Tensor fused = cuda_layer_norm_add(x, width, w, b, 1e-5, residual);
    ASSERT_EQ(fused.sizes(), reference.sizes());
    EXPECT_LE(relative_difference(fused, reference), 1e-5) << "width " << width;
    EXPECT_LE(relative_difference(cuda_layer_norm_add(misaligned(x), width, w, b, 1e-5, residual), reference), 1e-5);
  }
}

TEST(CudaFusedOps, LayerNormIndexAddEqualsTheUnfusedOperators) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(13);
  for (const int64_t width : kWidths) {
    const int64_t edges = 30000;
    const at::Tensor x = at::randn({edges, width}, kGpu);
    const at::Tensor w = at::randn({width}, kGpu);
    const at::Tensor b = at::randn({width}, kGpu);
    const at::Tensor index = at::randint(0, 4000, {edges}, kGpu.dtype(at::kLong));
    const at::Tensor start = at::randn({4000, width}, kGpu);
    at::Tensor reference = start.clone();
    reference.index_add_(0, index, unfused_layer_norm(x, width, w, b, 1e-5));
    at::Tensor fused = start.clone();
    at::Tensor& returned = cuda_layer_norm_index_add_(fused, index, x, width, w, b, 1e-5);
    EXPECT_TRUE(returned.is_same(fused));
    // ~7.5 rows onto each node, added atomically in any order.
    EXPECT_LE(relative_difference(fused, reference), 1e-5) << "width " << width;
  }
}

TEST(CudaFusedOps, LayerNormIndexAddIsTheUnfusedOperatorUnderDeterministicAlgorithms) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(14);
  const DeterministicAlgorithms deterministic;
  const at::Tensor x = at::randn({5000, 64}, kGpu);
  const at::Tensor w = at::randn({64}, kGpu);
  const at::Tensor b = at::randn({64}, kGpu);
  const at::Tensor index = at::randint(0, 100, {5000}, kGpu.dtype(at::kLong));
  at::Tensor reference = at::zeros({100, 64}, kGpu);
  reference.index_add_(0, index, unfused_layer_norm(x, 64, w, b, 1e-5));
  at::Tensor fused = at::zeros({100, 64}, kGpu);
  cuda_layer_norm_index_add_(fused, index, x, 64, w, b, 1e-5);
  EXPECT_TRUE(at::equal(fused, reference));
}

TEST(CudaFusedOps, OtherLayoutsTakeTheUnfusedOperators) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(15);
  // bfloat16 (the exporter's other LayerNorm branch) and a transposed (non-contiguous) input.
  const at::Tensor x = at::randn({50, 16}, kGpu).to(at::kBFloat16);
  const at::Tensor w = at::randn({16}, kGpu).to(at::kBFloat16);
  const at::Tensor b = at::randn({16}, kGpu).to(at::kBFloat16);
  EXPECT_TRUE(at::equal(cuda_layer_norm_add(x, 16, w, b, 1e-5, x),
                        unfused_layer_norm(x, 16, w, b, 1e-5).add_(x)));
  const at::Tensor t = at::randn({16, 50}, kGpu).t();
  const at::Tensor wf = at::randn({16}, kGpu);
  const at::Tensor bf = at::randn({16}, kGpu);
  EXPECT_TRUE(at::equal(cuda_layer_norm_add(t, 16, wf, bf, 1e-5, t), unfused_layer_norm(t, 16, wf, bf, 1e-5).add_(t)));
  const at::Tensor s = at::randn({4, 16}, kGpu).to(at::kBFloat16);
  const at::Tensor idx = at::randint(0, 4, {10}, kGpu.dtype(at::kLong));
  const at::Tensor e = at::randn({10, 16}, kGpu).to(at::kBFloat16);
  EXPECT_TRUE(at::equal(cuda_edge_silu(s, idx, e, s, idx), unfused_edge_silu(s, idx, e, s, idx)));
}

TEST(CudaFusedOps, ManyRowsStrideOverTheGrid) {
  // More rows than the grid has warps (kMaxBlocks blocks of kWarpsPerBlock warps): each warp goes
  // round the kernels' grid-stride loop, as the full-size graphs' 10^6 edges make it.
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(17);
  const int64_t rows = 2 * lanes::kMaxBlocks * lanes::kWarpsPerBlock + 77;
  const int64_t width = 8;
  const at::Tensor x = at::randn({rows, width}, kGpu);
  const at::Tensor w = at::randn({width}, kGpu);
  const at::Tensor b = at::randn({width}, kGpu);
  const at::Tensor nodes = at::randn({3000, width}, kGpu);
  const at::Tensor index = at::randint(0, 3000, {rows}, kGpu.dtype(at::kLong));
  EXPECT_LE(relative_difference(cuda_edge_silu(nodes, index, x, nodes, index),
                                unfused_edge_silu(nodes, index, x, nodes, index)),
            1e-6);
  EXPECT_LE(relative_difference(cuda_layer_norm_add(x, width, w, b, 1e-5, x),
                                unfused_layer_norm_add(x, width, w, b, 1e-5, x)),
            1e-5);
  at::Tensor reference = at::zeros({3000, width}, kGpu);
  reference.index_add_(0, index, unfused_layer_norm(x, width, w, b, 1e-5));
  at::Tensor fused = at::zeros({3000, width}, kGpu);
  cuda_layer_norm_index_add_(fused, index, x, width, w, b, 1e-5);
  EXPECT_LE(relative_difference(fused, reference), 1e-5);  // ~350 rows onto each node
}

TEST(CudaFusedOps, LayerNormIndexAddIntoItsOwnInputTakesTheUnfusedOperators) {
  // x.index_add_(0, i, layer_norm(x)) normalises all of x first; the kernel, whose warps add while
  // others still read x, must not take it.
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(18);
  const at::Tensor start = at::randn({4000, 32}, kGpu);
  const at::Tensor w = at::randn({32}, kGpu);
  const at::Tensor b = at::randn({32}, kGpu);
  const at::Tensor index = at::randint(0, 2000, {4000}, kGpu.dtype(at::kLong));
  at::Tensor reference = start.clone();
  reference.index_add_(0, index, unfused_layer_norm(start, 32, w, b, 1e-5));
  at::Tensor x = start.clone();
  cuda_layer_norm_index_add_(x, index, x, 32, w, b, 1e-5);
  EXPECT_LE(relative_difference(x, reference), 1e-5);
}

/// The operator `name` called as a TorchScript graph calls it (boxed), with `arguments`.
at::Tensor call_registered(const char* name, torch::jit::Stack arguments) {
  c10::Dispatcher::singleton().findSchemaOrThrow(name, "").callBoxed(&arguments);
  return arguments.at(0).toTensor();
}

TEST(CudaFusedOps, AreWhatTheDispatcherCallsForCudaTensors) {
  SKIP_WITHOUT_A_GPU();
  at::manual_seed(16);
  const at::Tensor s = at::randn({10, 8}, kGpu);
  const at::Tensor e = at::randn({40, 8}, kGpu);
  const at::Tensor idx = at::randint(0, 10, {40}, kGpu.dtype(at::kLong));
  const at::Tensor out = call_registered(fused_operator_names().edge_silu, {s, idx, e, s, idx});
  EXPECT_TRUE(out.is_cuda());
  EXPECT_TRUE(at::equal(out, cuda_edge_silu(s, idx, e, s, idx)));
  const at::Tensor w = at::randn({8}, kGpu);
  const at::Tensor b = at::randn({8}, kGpu);
  EXPECT_TRUE(at::equal(call_registered(fused_operator_names().layer_norm_add, {e, int64_t{8}, w, b, 1e-5, e}),
                        cuda_layer_norm_add(e, 8, w, b, 1e-5, e)));
  at::Tensor self = at::zeros({10, 8}, kGpu);
  at::Tensor expected = at::zeros({10, 8}, kGpu);
  call_registered(fused_operator_names().layer_norm_index_add, {self, idx, e, int64_t{8}, w, b, 1e-5});
  cuda_layer_norm_index_add_(expected, idx, e, 8, w, b, 1e-5);
  EXPECT_LE(relative_difference(self, expected), 1e-6);  // atomics: the same sums in any order
}

}  // namespace
}  // namespace neuralom::detail
