#include "neuralom/model/fused_kernels.h"

#include <algorithm>
#include <string>
#include <unordered_map>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/jit/ir/subgraph_matcher.h>
#include <torch/csrc/jit/passes/constant_pooling.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/subgraph_rewrite.h>
#include <torch/library.h>
#include <torch/script.h>

namespace neuralom {
namespace {

bool fusable(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
             const at::Tensor& dst) {
  for (const at::Tensor* t : {&s, &e, &d}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kFloat || t->dim() != 2 || !t->is_contiguous() ||
        t->size(1) != e.size(1)) {
      return false;
    }
  }
  for (const at::Tensor* t : {&src, &dst}) {
    if (!t->device().is_cpu() || t->scalar_type() != at::kLong || t->dim() != 1 || !t->is_contiguous() ||
        t->size(0) != e.size(0)) {
      return false;
    }
  }
  return true;
}

void check_indices(const at::Tensor& index, int64_t rows, const char* what) {
  const int64_t* p = index.data_ptr<int64_t>();
  const auto [lo, hi] = std::minmax_element(p, p + index.numel());
  if (index.numel() > 0) {
    TORCH_CHECK(*lo >= 0 && *hi < rows, "neuralom::edge_silu: ", what, " index out of range [0, ", rows, "): ", *lo,
                "..", *hi);
  }
}

/// Number of nodes in `block` and the blocks inside it.
int64_t count_nodes(const torch::jit::Block* block, const char* kind = nullptr) {
  int64_t n = 0;
  for (const torch::jit::Node* node : block->nodes()) {
    if (kind == nullptr || node->kind().toQualString() == std::string(kind)) ++n;
    for (const torch::jit::Block* inner : node->blocks()) n += count_nodes(inner, kind);
  }
  return n;
}

/// Inlines every method and function call, however deep. torch::jit::Inline inlines one level
/// when the graph executor's optimisations are off (as neuralom runs on the CPU: the callees'
/// graphs are then not inlined themselves), so it runs until the graph stops changing.
void inline_all_calls(torch::jit::Graph& graph) {
  for (int depth = 0; depth < 64; ++depth) {
    const int64_t calls = count_nodes(graph.block(), "prim::CallMethod") +
                          count_nodes(graph.block(), "prim::CallFunction");
    if (calls == 0) return;
    const int64_t before = count_nodes(graph.block());
    torch::jit::Inline(graph);
    if (count_nodes(graph.block()) == before) return;  // calls that cannot be inlined are left
  }
}

}  // namespace

at::Tensor edge_silu(const at::Tensor& s, const at::Tensor& src, const at::Tensor& e, const at::Tensor& d,
                     const at::Tensor& dst) {
  if (!fusable(s, src, e, d, dst)) {
    return at::silu_(s.index_select(0, src).add_(e).add_(d.index_select(0, dst)));
  }
  check_indices(src, s.size(0), "source");
  check_indices(dst, d.size(0), "destination");
  const int64_t edges = e.size(0);
  const int64_t width = e.size(1);
  at::Tensor out = at::empty({edges, width}, e.options());
  const float* sp = s.data_ptr<float>();
  const float* ep = e.data_ptr<float>();
  const float* dp = d.data_ptr<float>();
  const int64_t* srcp = src.data_ptr<int64_t>();
  const int64_t* dstp = dst.data_ptr<int64_t>();
  float* op = out.data_ptr<float>();
  for (int64_t begin = 0; begin < edges; begin += kEdgeSiluBlockRows) {
    const int64_t end = std::min(edges, begin + kEdgeSiluBlockRows);
    at::parallel_for(begin, end, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float* a = sp + srcp[i] * width;
        const float* x = ep + i * width;
        const float* b = dp + dstp[i] * width;
        float* o = op + i * width;
        // The unfused order: (s[src] + e), then + d[dst].
        for (int64_t j = 0; j < width; ++j) o[j] = (a[j] + x[j]) + b[j];
      }
    });
    at::Tensor block = out.narrow(0, begin, end - begin);
    at::silu_(block);
  }
  return out;
}

int fuse_edge_kernels(torch::jit::Module& module) {
  if (!module.find_method("forward")) return 0;
  std::shared_ptr<torch::jit::Graph> graph = module.get_method("forward").graph();
  inline_all_calls(*graph);
  // As the optimising executor would: branches on constants (nn.SiLU's `inplace`) resolved, and
  // equal constants shared, so that the pattern below sees straight-line code. Only values of
  // immutable types are folded: no tensor is computed at load, whatever the archive contains.
  torch::jit::ConstantPropagationImmutableTypes(graph);
  torch::jit::ConstantPooling(graph);
  const std::string pattern = R"IR(
graph(%s, %src, %e, %d, %dst, %dim, %alpha):
  %a = aten::index_select(%s, %dim, %src)
  %h = aten::add_(%a, %e, %alpha)
  %b = aten::index_select(%d, %dim, %dst)
  %h2 = aten::add_(%h, %b, %alpha)
  %r = aten::silu_(%h2)
  return (%r))IR";
  const std::string fused = R"IR(
graph(%s, %src, %e, %d, %dst, %dim, %alpha):
  %r = neuralom::edge_silu(%s, %src, %e, %d, %dst)
  return (%r))IR";
  // Only gathers along dimension 0 and adds with alpha 1, which is what the kernel computes.
  const auto constant_is = [](torch::jit::Value* v, int64_t expected) {
    const auto value = torch::jit::toIValue(v);
    return value && value->isInt() && value->toInt() == expected;
  };
  const auto filter = [&](const torch::jit::Match& match,
                          const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    return constant_is(match.values_map.at(vmap.at("dim")), 0) &&
           constant_is(match.values_map.at(vmap.at("alpha")), 1);
  };
  torch::jit::SubgraphRewriter rewriter;
  rewriter.RegisterRewritePattern(pattern, fused);
  rewriter.runOnGraph(graph, filter);
  // Counted in every block: the edge sums sit inside chunk loops.
  return static_cast<int>(count_nodes(graph->block(), "neuralom::edge_silu"));
}

}  // namespace neuralom

TORCH_LIBRARY(neuralom, m) {
  m.def("edge_silu(Tensor s, Tensor src, Tensor e, Tensor d, Tensor dst) -> Tensor");
}

TORCH_LIBRARY_IMPL(neuralom, CPU, m) { m.impl("edge_silu", &neuralom::edge_silu); }
