"""A fixed 0/1 mask on the input columns: those a fit selected pass, the others are zeroed."""

import numpy as np
import torch
from torch import nn

from ._linear import as_float64

__all__ = ["FeatureMask"]


class FeatureMask(nn.Module):
    """``x * mask``, the mask a buffer (all ones until :meth:`select` sets it).

    A zeroed column reaches no weight, so the network is that of the
    selected columns alone; the buffer is saved with the weights.

    Parameters
    ----------
    n_features : int
        Input width D.
    """

    def __init__(self, n_features):
        super().__init__()
        self.register_buffer("mask", torch.ones(n_features))

    def select(self, selected):
        """Keep the columns where ``selected`` (bool, shape (D,)) is true."""
        self.mask.copy_(torch.as_tensor(np.asarray(selected), dtype=self.mask.dtype))

    def forward(self, x):
        return x * self.mask

    def forward_members(self, x, tensors, prefix=""):
        return x * tensors[prefix + "mask"][:, None, :]

    def affine_map(self):
        """``z -> z @ diag(mask)`` as float64 ``(M, m)``."""
        mask = as_float64(self.mask)
        return np.diag(mask), np.zeros(len(mask))
