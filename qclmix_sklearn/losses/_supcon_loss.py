"""Supervised contrastive loss on boolean pair masks."""

import torch
from torch import nn
from torch.nn import functional as F

from ._pair_masks import any_pair, label_pair_masks
from ._weighting import weighted_mean


class SupConLoss(nn.Module):
    """pytorch-metric-learning's ``SupConLoss`` (Khosla et al. 2020), on masks.

    With ``s`` the cosine similarity and ``tau`` the temperature, anchor ``a``
    has ``l_a = -mean_{p in P(a)} log softmax_{b != a}(s(a, .) / tau)[p]``; the
    loss is the mean of the ``l_a > 0`` (pml's ``AvgNonZeroReducer``), zero when
    the batch has no positive or no negative pair. Same operations as pml
    (including its stabilising shift by the row maximum), without pml's
    conversions between masks and index tuples (tested against pml).

    Called on ``(n, dim)`` embeddings it returns a scalar; on
    ``(groups, n, dim)`` (labels ``(groups, n)``) the loss of each group.

    Parameters
    ----------
    temperature : float, default=0.1
        tau (pml's default; the paper uses 0.2).
    """

    def __init__(self, temperature=0.1):
        super().__init__()
        self.temperature = temperature

    def forward(self, embedding, target, sample_weight=None):
        """``sample_weight`` (..., n): the counted anchors' losses are averaged with it."""
        positive, negative = label_pair_masks(target)
        normalised = F.normalize(embedding, p=2, dim=-1)
        logits = (normalised @ normalised.transpose(-1, -2)) / self.temperature
        logits = logits - logits.amax(dim=-1, keepdim=True).detach()
        others = positive | negative  # every b != a
        lowest = torch.finfo(logits.dtype).min
        denominator = torch.logsumexp(logits.masked_fill(~others, lowest), dim=-1, keepdim=True)
        denominator = denominator.masked_fill(~others.any(dim=-1, keepdim=True), 0.0)
        log_prob = logits - denominator
        has_both = (any_pair(positive) & any_pair(negative))[..., 0]
        positive = positive.to(logits.dtype)
        tiny = torch.finfo(logits.dtype).tiny
        losses = -(positive * log_prob).sum(dim=-1) / (positive.sum(dim=-1) + tiny)
        # A batch without positive or negative pairs counts no anchor: zero.
        counted = ((losses > 0) & has_both).to(logits.dtype)
        if sample_weight is not None:
            return weighted_mean(losses, counted * sample_weight.to(logits.dtype))
        return (losses * counted).sum(dim=-1) / counted.sum(dim=-1).clamp_min(1)
