"""``nn.Linear`` with its member form and its affine map for folding."""

import numpy as np
import torch
from torch import nn

__all__ = ["Linear", "as_float64", "linear_members"]


def linear_members(x, weight, bias):
    """``F.linear`` per member: x (k, n, in), weight (k, out, in), bias (k, out) or None."""
    if bias is None:
        return torch.bmm(x, weight.transpose(1, 2))
    return torch.baddbmm(bias[:, None, :], x, weight.transpose(1, 2))


def as_float64(tensor, size=None):
    """``tensor`` as a float64 array; None (no bias, no affine weight): zeros of ``size``.

    Folding runs in numpy float64: a few hundred operations on small
    matrices, each several times cheaper than the same torch call.
    """
    if tensor is None:
        return np.zeros(size)
    return tensor.detach().cpu().numpy().astype(np.float64)


class Linear(nn.Linear):
    """``torch.nn.Linear``, and the same map for k stacked members (``forward_members``)."""

    def forward_members(self, x, tensors, prefix=""):
        return linear_members(x, tensors[prefix + "weight"], tensors.get(prefix + "bias"))

    def affine_map(self):
        """``z -> z @ M + m`` (row vectors), as float64 ``(M, m)``."""
        return as_float64(self.weight).T, as_float64(self.bias, self.out_features)
