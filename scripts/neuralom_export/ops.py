"""Graph primitives as plain tensor operations (what DGL does for the reference, model-spec §5.2, §6.3).

Node tensors are ``[N, H]``, edge tensors ``[E, H]``; ``src``/``dst`` are int64 ``[E]`` node indices.
All functions are TorchScript-compatible and autograd-safe (no in-place update of a tensor that
autograd still needs).
"""

import torch
from torch import Tensor


def gather_nodes(nodes: Tensor, index: Tensor) -> Tensor:
    """Rows ``index`` of ``nodes [N, H]`` -> ``[E, H]`` (a fresh tensor)."""
    return nodes.index_select(0, index)


def scatter_sum(values: Tensor, index: Tensor, num_nodes: int) -> Tensor:
    """``[num_nodes, H]``: row ``j`` is the sum of the rows ``values[e]`` with ``index[e] == j``
    (zeros where no edge arrives)."""
    out = values.new_zeros(num_nodes, values.size(1))
    return out.index_add_(0, index, values)


def edge_softmax(logits: Tensor, dst: Tensor, num_nodes: int) -> Tensor:
    """Softmax of ``logits [E, K]`` over the incoming edges of each destination node, separately per
    column, with the per-node maximum subtracted first (DGL ``edge_softmax``, normalised by dst)."""
    index = dst.unsqueeze(1).expand_as(logits)
    shape = [num_nodes, logits.size(1)]
    lowest = torch.full(shape, float("-inf"), dtype=logits.dtype, device=logits.device)
    node_max = lowest.scatter_reduce(0, index, logits, "amax", include_self=True)
    weights = torch.exp(logits - node_max.index_select(0, dst))
    total = weights.new_zeros(shape).index_add_(0, dst, weights)
    return weights / total.index_select(0, dst)
