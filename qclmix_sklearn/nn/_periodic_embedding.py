"""Periodic embeddings of numerical features (PBLD, as in RealMLP-TD)."""

import math

import torch
from torch import nn


class PeriodicEmbedding(nn.Module):
    """Each feature to ``k`` values: ``[cos(2 pi w x + b) @ W + c, x]`` (RealMLP's PBLD).

    Gorishniy et al. (NeurIPS 2022) map every numerical feature ``x_j``
    through periodic functions of learnt frequencies before the MLP; RealMLP-TD
    (Holzmüller et al., arXiv 2407.04491) uses the variant "PBLD":
    ``n_frequencies`` cosines with learnt frequencies ``w_j`` and phases
    ``b_j`` (the phase replaces the sin/cos pair), a per-feature linear map
    ``W_j, c_j`` to ``k - 1`` values without activation, and the feature
    itself appended (DenseNet-style), ``k`` values per feature in all. The
    output is ``(n, D * k)``: the ``k - 1`` learnt values of every feature,
    feature by feature, then the D raw features, in pytabkit's layout.

    Initialisation as pytabkit's: ``w ~ N(0, frequency_scale^2)``,
    ``b ~ U(-pi, pi)``, ``W, c ~ U(-1, 1) / sqrt(n_frequencies)``.
    pytabkit also trains these parameters with a tenth of the network's
    learning rate: here each is stored divided by ``lr_factor`` and
    multiplied back in ``forward``, which under Adam(W) (whose steps do not
    depend on the gradient's scale) is that learning-rate factor, with one
    optimizer and one rate for the whole network.

    ``forward_members`` runs k stacked members at once.

    Parameters
    ----------
    n_features : int
        Number of input features D.
    embedding_size : int, default=4
        Values per feature k, the feature itself included (RealMLP-TD: 4).
    n_frequencies : int, default=16
        Cosines per feature (RealMLP-TD: 16).
    frequency_scale : float, default=0.1
        Standard deviation of the initial frequencies (RealMLP-TD's
        ``plr_sigma``: 0.1, for inputs of unit scale).
    lr_factor : float, default=0.1
        Learning-rate factor of these parameters (RealMLP-TD: 0.1).
    """

    def __init__(self, n_features, embedding_size=4, n_frequencies=16, frequency_scale=0.1,
                 lr_factor=0.1):
        super().__init__()
        if embedding_size < 2:
            raise ValueError(f"embedding_size must be at least 2; got {embedding_size}.")
        self.lr_factor = lr_factor
        bound = 1.0 / math.sqrt(n_frequencies)
        n_out = embedding_size - 1
        # Stored divided by lr_factor (see the class docstring).
        self.frequency = nn.Parameter(
            frequency_scale * torch.randn(n_features, n_frequencies) / lr_factor)
        self.phase = nn.Parameter(
            math.pi * (2 * torch.rand(n_features, n_frequencies) - 1) / lr_factor)
        self.weight = nn.Parameter(
            bound * (2 * torch.rand(n_features, n_frequencies, n_out) - 1) / lr_factor)
        self.bias = nn.Parameter(bound * (2 * torch.rand(n_features, n_out) - 1) / lr_factor)

    def forward(self, x):
        factor = self.lr_factor
        # (n, D, F): x_j * w_jf, feature by feature (pytabkit's matmul with an inner size of 1).
        angle = 2 * math.pi * (x[..., None] * (factor * self.frequency)) + factor * self.phase
        periodic = torch.cos(angle)
        # Per-feature linear map (D, F) -> (D, k - 1): a batched product over the features.
        learnt = torch.einsum("...df,dfo->...do", periodic, factor * self.weight)
        learnt = learnt + factor * self.bias
        return torch.cat([learnt.flatten(-2), x], dim=-1)

    def forward_members(self, x, tensors, prefix=""):
        """``forward`` with a member dimension on the input and the parameters: x (k, n, D)."""
        factor = self.lr_factor
        frequency, phase = tensors[prefix + "frequency"], tensors[prefix + "phase"]  # (k, D, F)
        angle = (2 * math.pi * (x[..., None] * (factor * frequency)[:, None])
                 + (factor * phase)[:, None])
        periodic = torch.cos(angle)
        # The per-feature maps (D, F) -> (D, k - 1) of every member: one batched product.
        learnt = torch.einsum("mndf,mdfo->mndo", periodic, factor * tensors[prefix + "weight"])
        learnt = learnt + (factor * tensors[prefix + "bias"])[:, None]
        return torch.cat([learnt.flatten(-2), x], dim=-1)
