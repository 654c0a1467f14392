"""The quantum-entanglement (QE) layer of paper §3.2.1."""

import torch
from torch import nn


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
