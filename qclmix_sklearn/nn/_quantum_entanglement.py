"""The quantum-entanglement (QE) layer of paper §3.2.1."""

import numpy as np
import torch
from torch import nn

from ._bounds import largest
from ._linear import as_float64


class QuantumEntanglement(nn.Module):
    """``p = x * cos(theta)``; ``s = sigmoid(p . sin(theta))``; output ``p * s``.

    The scalar gate ``s`` couples every feature of a sample with all others;
    the layer keeps the width of its input.

    Parameters
    ----------
    dim : int
        Width of the input and output.
    init_std : float, default=0.1
        Standard deviation of the normal initialisation of ``theta``. The
        paper leaves it open; a small value starts the layer close to a
        uniform half-gated identity (cos(theta) ~ 1, s ~ 0.5).
    """

    def __init__(self, dim, init_std=0.1):
        super().__init__()
        self.theta = nn.Parameter(torch.randn(dim) * init_std)

    def forward(self, x):
        projected = x * torch.cos(self.theta)
        gate = torch.sigmoid(projected @ torch.sin(self.theta))
        return projected * gate.unsqueeze(-1)

    def forward_members(self, x, tensors, prefix=""):
        """The layer for k stacked members: ``x`` (k, n, dim), ``theta`` (k, dim)."""
        theta = tensors[prefix + "theta"]
        projected = x * torch.cos(theta)[:, None, :]
        gate = torch.sigmoid(torch.bmm(projected, torch.sin(theta)[:, :, None]))
        return projected * gate

    def fold(self, matrix, vector):
        """The layer on an affine input ``z = h @ matrix + vector`` (eval-mode folding).

        Returns ``(A, b, (g, d))``: the output is ``sigmoid(h @ g + d) * (h @ A + b)``,
        ``cos(theta)`` folded into the affine map and the gate one more column of it.
        """
        theta = as_float64(self.theta)
        A, b = matrix * np.cos(theta), vector * np.cos(theta)
        return A, b, (A @ np.sin(theta), b @ np.sin(theta))

    def bound_step(self):
        """The layer's bound step (see :mod:`~qclmix_sklearn.nn._bounds`).

        The gate's input is ``p . sin(theta)``; the output is ``p`` times a gate in [0, 1].
        """
        theta = as_float64(self.theta)
        dot = float(np.abs(np.cos(theta) * np.sin(theta)).sum())
        largest_cos = largest(np.cos(theta))

        def step(t):
            return largest_cos * t, dot * t
        return step
