"""Building blocks of the reference networks (model-spec §5.2, §6.2-6.3), without DGL.

Node tensors are ``[N, H]`` and edge tensors ``[E, H]`` (one sample; the model loops over the
batch). Parameter names equal the reference's state-dict keys without ``module.``, and modules are
created in the reference constructors' order, so a seeded random initialisation draws the same
numbers the reference would.

Each block keeps the reference's arithmetic order (e.g. ``(e + s[src]) + d[dst]``); results differ
from it only by the summation order of the scatter and of BLAS, i.e. by float32 rounding. In-place
updates are used only on fresh tensors that autograd does not need, so the eager modules can also
be trained.
"""

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .ops import edge_softmax, gather_nodes, scatter_sum

NUM_HEADS = 4  # OneForecast's attention/gating heads


def small_hidden(hidden_dim: int) -> int:
    """Width of OneForecast's gating and attention MLPs (reference: ``max(16, H // 8)``)."""
    return max(16, hidden_dim // 8)


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` whose statistics are always computed in float32.

    For a float32 input this is ``nn.LayerNorm`` itself (the same call). When the engine runs the
    network in bfloat16 (``neuralom --precision bf16``), the input and the affine parameters are
    widened to float32 for the normalisation and the result is rounded back: LayerNorm's mean and
    variance need float32's precision (a bfloat16 ``layer_norm`` of torch 1.13 on the CPU deviates
    by up to 0.16 on unit-scale outputs; see docs/gpu.md). Same parameters and state-dict keys."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype == torch.float32:
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        weight = self.weight.float() if self.weight is not None else None
        bias = self.bias.float() if self.bias is not None else None
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps).to(x.dtype)


class MLP(nn.Module):
    """``Linear(in, hidden) -> SiLU -> Linear(hidden, out) [-> LayerNorm(out)]``.

    Keys ``model.0``, ``model.2`` and, with the norm, ``model.3`` (``model.1`` is the SiLU).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden_dim: int, layer_norm: bool = True):
        super().__init__()
        layers: List[nn.Module] = [
            nn.Linear(in_dim, hidden_dim),
            nn.SiLU(inplace=True),  # acts on the fresh output of model.0
            nn.Linear(hidden_dim, out_dim),
        ]
        if layer_norm:
            layers.append(LayerNorm(out_dim))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


def _split_linear(dim: int) -> Tuple[nn.Parameter, nn.Parameter, nn.Parameter, nn.Parameter]:
    """Weights of one ``Linear(3*dim, dim)`` split column-wise into (edge, src, dst) parts + bias.

    The reference creates the joint layer and splits it, which fixes the random draws."""
    joint = nn.Linear(3 * dim, dim)
    weight = joint.weight.detach()
    return (
        nn.Parameter(weight[:, :dim].clone()),
        nn.Parameter(weight[:, dim : 2 * dim].clone()),
        nn.Parameter(weight[:, 2 * dim :].clone()),
        nn.Parameter(joint.bias.detach().clone()),
    )


class EdgeSumMLP(nn.Module):
    """The reference's "concat trick" edge MLP on ``[e, x_src[src], x_dst[dst]]``.

    The first ``3H -> H`` layer is stored split into ``lin_efeat``, ``lin_src``, ``lin_dst`` and
    ``bias``, so node projections are computed per node and gathered per edge:
    ``s = e W_e^T + (x_src W_s^T)[src] + (x_dst W_d^T + b)[dst]``; output
    ``LayerNorm(Linear(SiLU(s)))`` (keys ``model.1``, ``model.2``).
    """

    def __init__(self, dim: int):
        super().__init__()
        self.lin_efeat, self.lin_src, self.lin_dst, self.bias = _split_linear(dim)
        self.model = nn.Sequential(nn.SiLU(inplace=True), nn.Linear(dim, dim), LayerNorm(dim))

    def project_edges(self, efeat: Tensor) -> Tensor:
        return F.linear(efeat, self.lin_efeat)

    def project_src(self, nfeat: Tensor) -> Tensor:
        return F.linear(nfeat, self.lin_src)

    def project_dst(self, nfeat: Tensor) -> Tensor:
        return F.linear(nfeat, self.lin_dst, self.bias)

    def message(
        self, efeat_proj: Tensor, src_proj: Tensor, dst_proj: Tensor, src: Tensor, dst: Tensor
    ) -> Tensor:
        """Edge outputs ``[E, H]`` from the projected edges ``[E, H]`` and the projected source
        ``[N_src, H]`` and destination ``[N_dst, H]`` nodes."""
        # Summed in place into the fresh gathered tensor: one [E, H] buffer instead of three.
        hidden = gather_nodes(src_proj, src).add_(efeat_proj)
        return self.model(hidden.add_(gather_nodes(dst_proj, dst)))


class PhysicsEdgeMLP(nn.Module):
    """Edge MLP of the MIGraph processor (model-spec §5.2 "PhysicsEdge").

    Each node's source and destination projections are combined, per node, with their difference,
    product and cosine similarity before being gathered onto the edges.
    """

    def __init__(self, dim: int):
        super().__init__()
        # Reference order: physics layers, split linear, norms (the SiLU has no parameters).
        self.physics_src = nn.Linear(3 * dim + 1, dim)
        self.physics_dst = nn.Linear(3 * dim + 1, dim)
        self.lin_efeat, self.lin_src, self.lin_dst, self.bias = _split_linear(dim)
        self.norm_src = LayerNorm(dim)
        self.norm_dst = LayerNorm(dim)
        self.model = nn.Sequential(nn.SiLU(inplace=True), nn.Linear(dim, dim), LayerNorm(dim))

    def project_edges(self, efeat: Tensor) -> Tensor:
        return F.linear(efeat, self.lin_efeat)

    def node_terms(self, nfeat: Tensor) -> Tuple[Tensor, Tensor]:
        """Per-node source and destination terms, ``[N, H]`` each."""
        a = F.linear(nfeat, self.lin_src)
        b = F.linear(nfeat, self.lin_dst, self.bias)
        diff = a - b
        prod = a * b
        norms = a.norm(2.0, [-1], True) * b.norm(2.0, [-1], True)
        cos = prod.sum(dim=-1, keepdim=True) / (norms + 1e-8)  # eps added, not clamped
        src_term = F.silu(self.norm_src(self.physics_src(torch.cat([diff, prod, cos, a], dim=-1))))
        dst_term = F.silu(self.norm_dst(self.physics_dst(torch.cat([diff, prod, cos, b], dim=-1))))
        return src_term, dst_term

    def forward(self, efeat_proj: Tensor, nfeat: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        src_term, dst_term = self.node_terms(nfeat)
        hidden = gather_nodes(src_term, src).add_(efeat_proj)
        return self.model(hidden.add_(gather_nodes(dst_term, dst)))


# --- processor blocks -----------------------------------------------------------------------
# All blocks share one call signature so that a processor can run them in a loop:
#   (efeat, nfeat, efeat_proj, src, dst, in_degree) -> (efeat, nfeat)
# efeat_proj: the edge features' lin_efeat product when already known (static cache, first layer);
# in_degree: mesh in-degree [N, 1] float, clamped to >= 1 (DGL's mean).


class PhysicsEdgeBlock(nn.Module):
    """MIGraph edge update ``e <- PhysicsEdge(e, x) + e`` (reference ``InnovativeEdgeBlock``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.edge_mlp = PhysicsEdgeMLP(dim)

    def forward(
        self, efeat: Tensor, nfeat: Tensor, efeat_proj: Optional[Tensor],
        src: Tensor, dst: Tensor, in_degree: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        if efeat_proj is None:
            efeat_proj = self.edge_mlp.project_edges(efeat)
        return self.edge_mlp(efeat_proj, nfeat, src, dst).add_(efeat), nfeat


class GatedNodeBlock(nn.Module):
    """MIGraph node update (reference ``InnovativeNodeBlock``): an unbounded learned blend
    ``g * [sum, x] + (1 - g) * [mean, x]`` of the incoming edges, then ``x <- MLP(blend) + x``."""

    def __init__(self, dim: int):
        super().__init__()
        self.node_mlp = MLP(2 * dim, dim, dim)
        self.gate_net = MLP(4 * dim, 1, dim, layer_norm=False)

    def forward(
        self, efeat: Tensor, nfeat: Tensor, efeat_proj: Optional[Tensor],
        src: Tensor, dst: Tensor, in_degree: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        agg_sum = scatter_sum(efeat, dst, nfeat.size(0))
        cat_sum = torch.cat([agg_sum, nfeat], dim=-1)
        cat_mean = torch.cat([agg_sum / in_degree, nfeat], dim=-1)
        gamma = self.gate_net(torch.cat([cat_sum, cat_mean], dim=-1))
        blend = gamma * cat_sum + (1 - gamma) * cat_mean
        return efeat, self.node_mlp(blend).add_(nfeat)


class GatedEdgeBlock(nn.Module):
    """OneForecast edge update (reference ``MeshEdgeBlockMultiHeadGated``):
    ``e <- EdgeSum(e, x, x) * (q0 + q1 + q2) / 3 + e``, ``q`` = sigmoid gates averaged over heads.

    The gate's first layer acts on ``[e, x[src], x[dst]]``; it is evaluated split (node products
    gathered per edge) instead of on the ``[E, 3H]`` concatenation, which saves that copy and most
    of the work and changes the result only by float32 rounding.
    """

    def __init__(self, dim: int, num_heads: int = NUM_HEADS):
        super().__init__()
        self.num_heads = num_heads
        self.dim = dim
        self.edge_mlp = EdgeSumMLP(dim)
        hidden = small_hidden(dim)
        self.gate_net = nn.Sequential(
            nn.Linear(3 * dim, hidden),
            nn.SiLU(inplace=True),
            nn.Linear(hidden, 3 * num_heads),
            nn.Sigmoid(),
        )

    def _gates(self, efeat: Tensor, nfeat: Tensor, src: Tensor, dst: Tensor) -> Tensor:
        """``[E, 1]``: the sum of the three head-averaged gates."""
        dim = self.dim
        first = self.gate_net[0]
        weight = first.weight
        hidden = F.linear(efeat, weight[:, :dim], first.bias)
        hidden = hidden + gather_nodes(F.linear(nfeat, weight[:, dim : 2 * dim]), src)
        hidden = hidden + gather_nodes(F.linear(nfeat, weight[:, 2 * dim :]), dst)
        gates = self.gate_net[3](self.gate_net[2](self.gate_net[1](hidden)))  # [E, 3 * heads]
        gates = gates.view(gates.size(0), self.num_heads, 3).mean(dim=1)  # [E, 3]
        return gates[:, 0:1] + gates[:, 1:2] + gates[:, 2:3]

    def forward(
        self, efeat: Tensor, nfeat: Tensor, efeat_proj: Optional[Tensor],
        src: Tensor, dst: Tensor, in_degree: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        gate_sum = self._gates(efeat, nfeat, src, dst)
        if efeat_proj is None:
            efeat_proj = self.edge_mlp.project_edges(efeat)
        update = self.edge_mlp.message(
            efeat_proj, self.edge_mlp.project_src(nfeat), self.edge_mlp.project_dst(nfeat), src, dst
        )
        return (update * gate_sum).div_(3.0).add_(efeat), nfeat


class AttentionNodeBlock(nn.Module):
    """OneForecast node update (reference ``MeshNodeBlockMultiHeadAttn``): per-head softmax
    attention over the incoming edges, heads concatenated head-major, then ``x <- MLP([A, x]) + x``."""

    def __init__(self, dim: int, num_heads: int = NUM_HEADS):
        super().__init__()
        self.num_heads = num_heads
        self.node_mlp = MLP(dim + dim * num_heads, dim, dim)
        hidden = small_hidden(dim)
        self.attn_net = nn.Sequential(
            nn.Linear(dim, hidden), nn.SiLU(inplace=True), nn.Linear(hidden, num_heads)
        )

    def forward(
        self, efeat: Tensor, nfeat: Tensor, efeat_proj: Optional[Tensor],
        src: Tensor, dst: Tensor, in_degree: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        num_nodes = nfeat.size(0)
        alpha = edge_softmax(self.attn_net(efeat), dst, num_nodes)  # [E, heads]
        # One head at a time: never materialises the [E, heads, H] weighted edge tensor.
        parts: List[Tensor] = []
        for head in range(self.num_heads):
            parts.append(scatter_sum(efeat * alpha[:, head : head + 1], dst, num_nodes))
        parts.append(nfeat)
        return efeat, self.node_mlp(torch.cat(parts, dim=-1)).add_(nfeat)


class Processor(nn.Module):
    """A run of (edge block, node block) pairs on the mesh; key prefix ``processor_layers.{i}``."""

    def __init__(self, num_pairs: int, dim: int, attention: bool):
        super().__init__()
        layers: List[nn.Module] = []
        for _ in range(num_pairs):
            if attention:
                layers += [GatedEdgeBlock(dim), AttentionNodeBlock(dim)]
            else:
                layers += [PhysicsEdgeBlock(dim), GatedNodeBlock(dim)]
        self.processor_layers = nn.ModuleList(layers)

    def forward(
        self, efeat: Tensor, nfeat: Tensor, first_efeat_proj: Optional[Tensor],
        src: Tensor, dst: Tensor, in_degree: Tensor,
    ) -> Tuple[Tensor, Tensor]:
        efeat_proj = first_efeat_proj
        for layer in self.processor_layers:
            efeat, nfeat = layer(efeat, nfeat, efeat_proj, src, dst, in_degree)
            efeat_proj = None
        return efeat, nfeat


# --- parameter containers of the encoder/decoder side (their wiring lives in the network) -------


class EncoderEmbedder(nn.Module):
    def __init__(self, in_channels: int, dim: int):
        super().__init__()
        self.grid_node_mlp = MLP(in_channels, dim, dim)
        self.mesh_node_mlp = MLP(3, dim, dim)
        self.mesh_edge_mlp = MLP(4, dim, dim)
        self.grid2mesh_edge_mlp = MLP(4, dim, dim)


class DecoderEmbedder(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.mesh2grid_edge_mlp = MLP(4, dim, dim)


class Encoder(nn.Module):
    """Grid -> mesh: ``edge_mlp`` (EdgeSum), ``src_node_mlp`` (grid), ``dst_node_mlp`` (mesh)."""

    def __init__(self, dim: int):
        super().__init__()
        self.edge_mlp = EdgeSumMLP(dim)
        self.src_node_mlp = MLP(dim, dim, dim)
        self.dst_node_mlp = MLP(2 * dim, dim, dim)


class Decoder(nn.Module):
    """Mesh -> grid: ``edge_mlp`` (EdgeSum), ``node_mlp`` (grid)."""

    def __init__(self, dim: int):
        super().__init__()
        self.edge_mlp = EdgeSumMLP(dim)
        self.node_mlp = MLP(2 * dim, dim, dim)
