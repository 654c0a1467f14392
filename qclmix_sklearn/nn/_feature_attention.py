"""Self-attention recalibration of one sample's features (paper §3.2.1, step 2)."""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._bounds import largest, row_norm
from ._linear import as_float64, linear_members


class FeatureSelfAttention(nn.Module):
    """Residual single-head self-attention over a sample seen as a sequence of one.

    ``out = x + attn(x, x, x)`` with ``nn.MultiheadAttention(embed_dim=D,
    num_heads=1)``. Each sample is its own sequence, so no sample's output ever
    depends on the other rows of the batch.

    ``forward`` evaluates that attention for a sequence of one token directly
    from the ``nn.MultiheadAttention`` parameters: query, key and value
    projections, the scaled score ``q . k / sqrt(D)``, its softmax over the
    single key (exactly 1, or NaN once the score overflows), the weighted
    value and the output projection. Same values and (for finite scores)
    gradients as calling the module, without the reshapes and batched
    matrix products of the generic kernel that dominate on small batches.

    Parameters
    ----------
    dim : int
        Number of input features (the attention's embedding width).
    """

    def __init__(self, dim):
        super().__init__()
        self.attention = nn.MultiheadAttention(embed_dim=dim, num_heads=1, batch_first=True)

    def forward(self, x):
        attention = self.attention
        dim = attention.embed_dim
        # in_proj stacks the query, key and value projections, in this order.
        weight_in, bias_in = attention.in_proj_weight, attention.in_proj_bias
        value = F.linear(x, weight_in[2 * dim:], bias_in[2 * dim:])
        # softmax over the one key: exp(score - max) / sum = exp(score - score),
        # i.e. 1 (NaN when the score overflowed) with a zero gradient; written
        # out because torch's softmax over a dimension of size 1 is slow. The
        # gradient being zero, the query and key run outside autograd (their
        # projections get the zero gradient all the same).
        with torch.no_grad():
            query, key = F.linear(x, weight_in[:2 * dim], bias_in[:2 * dim]).chunk(2, dim=1)
            score = (query * key).sum(dim=1, keepdim=True) / math.sqrt(dim)
            weight = torch.exp(score - score)
        return x + attention.out_proj(weight * value)

    def generic_forward(self, x):
        """The same map through ``nn.MultiheadAttention`` itself (for tests)."""
        sequence = x.unsqueeze(1)  # (batch, 1, dim): one token per sample
        attended, _ = self.attention(sequence, sequence, sequence, need_weights=False)
        return x + attended.squeeze(1)

    def forward_members(self, x, tensors, prefix=""):
        """``forward`` for k stacked members: ``x`` (k, n, dim)."""
        name = prefix + "attention."
        projected = linear_members(x, tensors[name + "in_proj_weight"],
                                   tensors[name + "in_proj_bias"])
        query, key, value = projected.chunk(3, dim=-1)
        score = (query * key).sum(dim=-1, keepdim=True) / math.sqrt(x.shape[-1])
        weight = torch.exp(score - score)  # the softmax over one key (see forward)
        return x + linear_members(weight * value, tensors[name + "out_proj.weight"],
                                  tensors[name + "out_proj.bias"])

    def affine_parts(self):
        """The query, key, value and output maps as float64 ``(M, m)`` (row vectors), or None."""
        attention = self.attention
        if attention.in_proj_weight is None:
            return None
        dim = attention.embed_dim
        w_in = as_float64(attention.in_proj_weight)
        b_in = as_float64(attention.in_proj_bias, 3 * dim)
        parts = [(w_in[i * dim:(i + 1) * dim].T, b_in[i * dim:(i + 1) * dim]) for i in range(3)]
        out = attention.out_proj
        return parts + [(as_float64(out.weight).T, as_float64(out.bias, dim))]

    def affine_map(self):
        """``x + out_proj(value(x))`` (the forward with its attention weight of 1) as
        float64 ``(M, m)``, or None."""
        parts = self.affine_parts()
        if parts is None:
            return None
        (w_value, b_value), (w_out, b_out) = parts[2], parts[3]
        return np.eye(len(w_value)) + w_value @ w_out, b_value @ w_out + b_out

    def bound_step(self):
        """The layer's bound step (see :mod:`~qclmix_sklearn.nn._bounds`).

        The folded map leaves out the query and key; their score ``q . k``
        overflows first, so it is bounded too.
        """
        parts = self.affine_parts()
        query_key_value = [(row_norm(matrix), largest(vector)) for matrix, vector in parts[:3]]
        out_norm, out_offset = row_norm(parts[3][0]), largest(parts[3][1])
        dim = len(parts[0][0])

        def step(t):
            query, key, value = (n * t + offset for n, offset in query_key_value)
            products = dim * query * key  # q . k sums dim products of at most query * key
            out = t + out_norm * value + out_offset
            return out, max(query, key, value, products, out)
        return step
