"""``nn.BatchNorm1d`` with its member form and its eval-mode affine map."""

import numpy as np
from torch import nn
from torch.nn import functional as F

from ._linear import as_float64

__all__ = ["BatchNorm1d"]


class BatchNorm1d(nn.BatchNorm1d):
    """``torch.nn.BatchNorm1d``, and the same for k stacked members (``forward_members``)."""

    def forward_members(self, x, tensors, prefix=""):
        """BatchNorm over each member's rows: the k members' channels side by side.

        Training mode updates the members' running statistics in ``tensors``.
        """
        if self.momentum is None:
            raise TypeError("BatchNorm1d(momentum=None) (a cumulative average) has no "
                            "member form.")
        k, n, c = x.shape
        wide = x.transpose(0, 1).reshape(n, k * c)
        running = self.track_running_stats
        if self.training and running:
            tensors[prefix + "num_batches_tracked"].add_(1)
        weight, bias = tensors.get(prefix + "weight"), tensors.get(prefix + "bias")
        out = F.batch_norm(
            wide,
            # Views of the stacked buffers: the update lands in every member's statistics.
            tensors[prefix + "running_mean"].view(-1) if running else None,
            tensors[prefix + "running_var"].view(-1) if running else None,
            None if weight is None else weight.reshape(-1),
            None if bias is None else bias.reshape(-1),
            self.training or not running, self.momentum, self.eps,
        )
        return out.reshape(n, k, c).transpose(0, 1)

    def affine_map(self):
        """Eval mode ``z -> z * scale + shift`` as float64 ``(diag(scale), shift)``; None
        without running statistics (eval mode then normalises by the batch's)."""
        if self.running_mean is None or self.running_var is None:
            return None
        scale = 1 / np.sqrt(as_float64(self.running_var) + self.eps)
        if self.weight is not None:
            scale *= as_float64(self.weight)
        shift = as_float64(self.bias, self.num_features) - as_float64(self.running_mean) * scale
        return np.diag(scale), shift
