#include "neuralom/model/kernel_fusion.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/ir/subgraph_matcher.h>
#include <torch/csrc/jit/passes/constant_pooling.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/subgraph_rewrite.h>
#include <torch/script.h>

#include "neuralom/model/fused_kernels.h"

namespace neuralom {
namespace {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

/// The nodes of `kind` (all nodes when null) in `block` and the blocks inside it, in order.
void collect(Block* block, const char* kind, std::vector<Node*>& out) {
  for (Node* node : block->nodes()) {
    if (kind == nullptr || node->kind().toQualString() == std::string(kind)) out.push_back(node);
    for (Block* inner : node->blocks()) collect(inner, kind, out);
  }
}

std::vector<Node*> nodes_of_kind(Block* block, const char* kind = nullptr) {
  std::vector<Node*> nodes;
  collect(block, kind, nodes);
  return nodes;
}

int64_t count_nodes(Block* block, const char* kind = nullptr) {
  return static_cast<int64_t>(nodes_of_kind(block, kind).size());
}

/// Inlines every method and function call, however deep. torch::jit::Inline inlines one level
/// when the graph executor's optimisations are off (as neuralom runs on the CPU: the callees'
/// graphs are then not inlined themselves), so it runs until the graph stops changing.
void inline_all_calls(Graph& graph) {
  for (int depth = 0; depth < 64; ++depth) {
    const int64_t calls = count_nodes(graph.block(), "prim::CallMethod") +
                          count_nodes(graph.block(), "prim::CallFunction");
    if (calls == 0) return;
    const int64_t before = count_nodes(graph.block());
    torch::jit::Inline(graph);
    if (count_nodes(graph.block()) == before) return;  // calls that cannot be inlined are left
  }
}

bool constant_is(Value* v, int64_t expected) {
  const auto value = torch::jit::toIValue(v);
  return value && value->isInt() && value->toInt() == expected;
}

// (A kind comparison, not a subtype test: that one makes UBSan's vptr check reference typeinfo
// that Debian's LibTorch does not export.)
bool is_tensor(const Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }

int fuse_edge_silu(std::shared_ptr<Graph>& graph) {
  const std::string pattern = R"IR(
graph(%s, %src, %e, %d, %dst, %dim, %alpha):
  %a = aten::index_select(%s, %dim, %src)
  %h = aten::add_(%a, %e, %alpha)
  %b = aten::index_select(%d, %dim, %dst)
  %h2 = aten::add_(%h, %b, %alpha)
  %r = aten::silu_(%h2)
  return (%r))IR";
  const std::string fused = std::string(R"IR(
graph(%s, %src, %e, %d, %dst, %dim, %alpha):
  %r = )IR") + fused_operator_names().edge_silu + R"IR((%s, %src, %e, %d, %dst)
  return (%r))IR";
  // Only gathers along dimension 0 and adds with alpha 1, which is what the kernel computes.
  const auto filter = [](const torch::jit::Match& match, const std::unordered_map<std::string, Value*>& vmap) {
    return constant_is(match.values_map.at(vmap.at("dim")), 0) && constant_is(match.values_map.at(vmap.at("alpha")), 1);
  };
  torch::jit::SubgraphRewriter rewriter;
  rewriter.RegisterRewritePattern(pattern, fused);
  rewriter.runOnGraph(graph, filter);
  // Counted in every block: the edge sums sit inside chunk loops.
  return static_cast<int>(count_nodes(graph->block(), fused_operator_names().edge_silu));
}

/// An exporter's LayerNorm, inlined:  prim::If(dtype == float32) { layer_norm(x, ...) }
/// else { the float32-statistics version }.
struct LayerNormBranch {
  Node* branch = nullptr;
  Node* layer_norm = nullptr;
  Value* width = nullptr;  ///< the one element of its normalized_shape (an int)
};

/// The int that a one-element list is built from, or null.
Value* single_element(Graph& graph, Value* list) {
  Node* n = list->node();
  if (n->kind() == c10::prim::ListConstruct && n->inputs().size() == 1 &&
      n->input(0)->type()->kind() == c10::TypeKind::IntType) {
    return n->input(0);
  }
  const auto value = torch::jit::toIValue(list);
  if (value && value->isIntList() && value->toIntList().size() == 1) {
    torch::jit::WithInsertPoint guard(graph.block()->nodes().front());
    return graph.insertConstant(value->toIntList().get(0));
  }
  return nullptr;
}

/// For a `consumer` whose `input` is the output of such an If placed right before it, used by
/// nothing else: the If, and the layer_norm its first branch returns (used by nothing else
/// either), with a one-element normalized_shape. Null members otherwise.
LayerNormBranch layer_norm_before(Graph& graph, Node* consumer, Value* input) {
  Node* branch = consumer->prev();
  if (input->node() != branch || branch->kind() != c10::prim::If || branch->outputs().size() != 1 ||
      input->uses().size() != 1 || branch->blocks().size() != 2) {
    return {};
  }
  Value* returned = branch->blocks()[0]->outputs()[0];
  Node* norm = returned->node();
  if (norm->kind() != c10::aten::layer_norm || norm->owningBlock() != branch->blocks()[0] ||
      returned->uses().size() != 1 || norm->inputs().size() != 6) {
    return {};
  }
  Value* width = single_element(graph, norm->input(1));
  if (width == nullptr) return {};
  return {branch, norm, width};
}

/// Gives `branch`'s first block `fused` (inserted where its layer_norm was, which it replaces)
/// and its second block `unfused` applied to what that block returned, then lets the If's output
/// stand for `consumer`'s, which is removed.
template <typename MakeFused, typename MakeUnfused>
void rewrite(Node* consumer, const LayerNormBranch& b, MakeFused make_fused, MakeUnfused make_unfused) {
  Block* then_block = b.branch->blocks()[0];
  Block* else_block = b.branch->blocks()[1];
  {
    torch::jit::WithInsertPoint guard(b.layer_norm);
    Value* fused = make_fused(b.layer_norm->inputs(), b.width);
    then_block->return_node()->replaceInputWith(b.layer_norm->output(), fused);
  }
  b.layer_norm->destroy();
  {
    Value* returned = else_block->outputs()[0];
    torch::jit::WithInsertPoint guard(else_block->return_node());
    Value* unfused = make_unfused(returned);
    else_block->return_node()->replaceInputWith(returned, unfused);
  }
  consumer->output()->replaceAllUsesWith(b.branch->output());
  consumer->destroy();
}

/// layer_norm → add_(·, residual, 1)  ⇒  neuralom::layer_norm_add.
int fuse_layer_norm_add(Graph& graph) {
  const c10::Symbol fused_op = c10::Symbol::fromQualString(fused_operator_names().layer_norm_add);
  int fused = 0;
  for (Node* add : nodes_of_kind(graph.block(), "aten::add_")) {
    if (add->inputs().size() != 3 || !constant_is(add->input(2), 1) || !is_tensor(add->input(1))) continue;
    const LayerNormBranch b = layer_norm_before(graph, add, add->input(0));
    Value* residual = add->input(1);
    if (b.branch == nullptr || residual == add->input(0)) continue;
    Value* alpha = add->input(2);
    rewrite(
        add, b,
        [&](c10::ArrayRef<Value*> ln, Value* width) {
          return graph.insert(fused_op, {ln[0], width, ln[2], ln[3], ln[4], residual});
        },
        [&](Value* normed) {
          return graph.insert(c10::aten::add_, {normed, residual}, {torch::jit::NamedValue("alpha", alpha)});
        });
    ++fused;
  }
  return fused;
}

/// layer_norm → index_add_(self, 0, index, ·, 1)  ⇒  neuralom::layer_norm_index_add_.
int fuse_layer_norm_index_add(Graph& graph) {
  const c10::Symbol fused_op = c10::Symbol::fromQualString(fused_operator_names().layer_norm_index_add);
  int fused = 0;
  for (Node* scatter : nodes_of_kind(graph.block(), "aten::index_add_")) {
    if (scatter->inputs().size() != 5 || !constant_is(scatter->input(1), 0) || !constant_is(scatter->input(4), 1)) {
      continue;
    }
    const LayerNormBranch b = layer_norm_before(graph, scatter, scatter->input(3));
    Value* self = scatter->input(0);
    Value* index = scatter->input(2);
    if (b.branch == nullptr || self == scatter->input(3) || index == scatter->input(3)) continue;
    Value* dim = scatter->input(1);
    Value* alpha = scatter->input(4);
    rewrite(
        scatter, b,
        [&](c10::ArrayRef<Value*> ln, Value* width) {
          return graph.insert(fused_op, {self, index, ln[0], width, ln[2], ln[3], ln[4]});
        },
        [&](Value* normed) {
          return graph.insert(c10::aten::index_add_, {self, dim, index, normed}, {torch::jit::NamedValue("alpha", alpha)});
        });
    ++fused;
  }
  return fused;
}

}  // namespace

FusedSequences fuse_kernels(torch::jit::Module& module) {
  FusedSequences counts;
  if (!module.find_method("forward")) return counts;
  std::shared_ptr<Graph> graph = module.get_method("forward").graph();
  inline_all_calls(*graph);
  // As the optimising executor would: branches on constants (nn.SiLU's `inplace`) resolved, and
  // equal constants shared, so that the patterns see straight-line code. Only values of
  // immutable types are folded: no tensor is computed at load, whatever the archive contains.
  torch::jit::ConstantPropagationImmutableTypes(graph);
  torch::jit::ConstantPooling(graph);
  counts.edge_silu = fuse_edge_silu(graph);
  // The two kinds of sequence share no node, so the order of the passes does not matter.
  counts.layer_norm_add = fuse_layer_norm_add(*graph);
  counts.layer_norm_index_add = fuse_layer_norm_index_add(*graph);
  graph->lint();
  return counts;
}

}  // namespace neuralom
