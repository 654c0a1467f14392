"""Self-attention recalibration of one sample's features (paper §3.2.1, step 2)."""

import math

import torch
from torch import nn
from torch.nn import functional as F


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
