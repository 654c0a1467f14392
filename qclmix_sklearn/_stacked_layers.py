"""Layers that run k stacked members at once on inputs of shape ``(k, batch, ...)``.

``torch.func.vmap`` runs any module over stacked weights, but on the CPU each
batched operation costs several times its plain counterpart (a vmapped
``F.linear`` on 3 x 64 rows took ~18x a ``torch.baddbmm``), which is more
than the per-step overhead stacking saves. :func:`make_stacked` therefore
rewires a module, where every layer is of a known kind, to compute all
members with plain batched operations: each known layer's ``forward`` is
replaced by one that reads its stacked weights from a dict and takes the
member dimension first. Modules with an unknown layer are left alone (the
caller then uses ``vmap``).
"""

import math
import types

import torch
from torch import nn
from torch.nn import functional as F

from .nn import FeatureSelfAttention, PeriodicEmbedding, QCLMixNet, QuantumEntanglement

__all__ = ["make_stacked"]

# Layers that act on the last dimension elementwise: unchanged by a leading member dim.
_ELEMENTWISE = (nn.Identity, nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid,
                nn.ELU)
# Containers whose forward only composes their children.
_COMPOSING = (nn.Sequential, QCLMixNet)


def _linear(x, weight, bias):
    """``F.linear`` per member: x (k, n, in), weight (k, out, in), bias (k, out)."""
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias[:, None, :], x, weight.transpose(1, 2))


def _stacked_linear(layer, prefix, tensors):
    def forward(self, x):
        return _linear(x, tensors()[prefix + "weight"], tensors().get(prefix + "bias"))
    return forward


def _stacked_batch_norm(layer, prefix, tensors):
    """BatchNorm1d over each member's rows: the k members' channels side by side."""
    if layer.momentum is None:  # a cumulative average: left to vmap
        return None

    def forward(self, x):
        t = tensors()
        k, n, c = x.shape
        wide = x.transpose(0, 1).reshape(n, k * c)
        running = self.track_running_stats
        if self.training and running:
            t[prefix + "num_batches_tracked"].add_(1)
        weight, bias = t.get(prefix + "weight"), t.get(prefix + "bias")
        out = F.batch_norm(
            wide,
            # Views of the stacked buffers: the update lands in every member's statistics.
            t[prefix + "running_mean"].view(-1) if running else None,
            t[prefix + "running_var"].view(-1) if running else None,
            None if weight is None else weight.reshape(-1),
            None if bias is None else bias.reshape(-1),
            self.training or not running, self.momentum, self.eps,
        )
        return out.reshape(n, k, c).transpose(0, 1)
    return forward


def _stacked_entanglement(layer, prefix, tensors):
    def forward(self, x):
        theta = tensors()[prefix + "theta"]  # (k, dim)
        projected = x * torch.cos(theta)[:, None, :]
        gate = torch.sigmoid(torch.bmm(projected, torch.sin(theta)[:, :, None]))
        return projected * gate
    return forward


def _stacked_attention(layer, prefix, tensors):
    name = prefix + "attention."

    def forward(self, x):
        t = tensors()
        projected = _linear(x, t[name + "in_proj_weight"], t[name + "in_proj_bias"])
        query, key, value = projected.chunk(3, dim=-1)
        score = (query * key).sum(dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
        weight = torch.exp(score - score)  # the softmax over one key (see FeatureSelfAttention)
        return x + _linear(weight * value, t[name + "out_proj.weight"],
                           t[name + "out_proj.bias"])
    return forward


def _stacked_periodic(layer, prefix, tensors):
    """PeriodicEmbedding's operations with a member dimension on the parameters too."""
    def forward(self, x):
        t = tensors()
        factor = self.lr_factor
        frequency, phase = t[prefix + "frequency"], t[prefix + "phase"]  # (k, D, F)
        # (k, n, D, F): each member's x_j * w_jf and phases, as in PeriodicEmbedding.forward.
        angle = (2 * math.pi * (x[..., None] * (factor * frequency)[:, None])
                 + (factor * phase)[:, None])
        periodic = torch.cos(angle)
        # The per-feature maps (D, F) -> (D, k - 1) of every member: one batched product.
        learnt = torch.einsum("mndf,mdfo->mndo", periodic, factor * t[prefix + "weight"])
        learnt = learnt + (factor * t[prefix + "bias"])[:, None]
        return torch.cat([learnt.flatten(-2), x], dim=-1)
    return forward


_STACKED = {
    nn.Linear: _stacked_linear,
    nn.BatchNorm1d: _stacked_batch_norm,
    QuantumEntanglement: _stacked_entanglement,
    FeatureSelfAttention: _stacked_attention,
    PeriodicEmbedding: _stacked_periodic,
}


def make_stacked(module, tensors):
    """Rewire ``module`` (a private copy) to run stacked members; False if it cannot.

    ``tensors()`` returns the dict of the members' stacked parameters and
    buffers (``name -> (k, ...)``) that the next call should use. After a
    True return, ``module(x)`` with ``x`` of shape ``(k, n, ...)`` gives every
    member's output on its own rows, ``(k, n, ...)``, in the module's
    training or eval mode; BatchNorm updates the stacked running statistics.
    """
    plan = []
    if not _plan(module, "", tensors, plan):
        return False
    for layer, forward in plan:
        layer.forward = types.MethodType(forward, layer)
    return True


def _plan(module, prefix, tensors, plan):
    build = _STACKED.get(type(module))
    if build is not None:
        forward = build(module, prefix, tensors)
        if forward is None:
            return False
        plan.append((module, forward))
        return True
    if type(module) in _ELEMENTWISE:
        return True
    if type(module) not in _COMPOSING or any(True for _ in module.parameters(recurse=False)):
        return False
    return all(_plan(child, f"{prefix}{name}.", tensors, plan)
               for name, child in module.named_children())
