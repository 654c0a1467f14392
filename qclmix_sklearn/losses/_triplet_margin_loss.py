"""Triplet margin loss over mined pairs, without listing the triplets."""

import torch
from torch import nn
from torch.nn import functional as F

from ._pair_masks import pair_masks


class TripletMarginLoss(nn.Module):
    """pytorch-metric-learning's ``TripletMarginLoss`` on pairs, computed in O(B^2 log B).

    The same value as ``pytorch_metric_learning.losses.TripletMarginLoss(margin)``
    with its defaults (L2-normalised embeddings, Euclidean distance ``d``,
    ``triplets_per_anchor="all"``, ``AvgNonZeroReducer``): over every triplet
    ``(a, p, n)`` whose ``(a, p)`` is a positive and ``(a, n)`` a negative pair,
    ``l = relu(d(a, p) - d(a, n) + margin)``, averaged over the triplets with
    ``l > 0``; zero when there are none.

    Why not pml itself: it lists all triplets through a (positive pairs x
    negative pairs) matrix, ~10 ms per batch of 64 and memory quadratic in
    the number of pairs. Here the sum over the violating triplets is
    regrouped by pair::

        sum (d_ap + margin - d_an) = sum_ap n_ap * (d_ap + margin) - sum_an w_an * d_an

    where ``n_ap`` counts the negatives ``n`` of ``a`` with
    ``d_an < d_ap + margin`` and ``w_an`` the positives ``p`` of ``a`` with the
    same inequality. Both counts come from sorting each anchor's distances
    and ``searchsorted``; they are piecewise constant, so the loss is a
    weighted sum of the distances with count weights, and its gradient is
    exactly that of the triplet sum. Sums run in float64 because the two
    terms cancel.

    Parameters
    ----------
    margin : float, default=0.05
        The margin (pml's default; the paper uses 0.5).
    """

    def __init__(self, margin=0.05):
        super().__init__()
        self.margin = margin

    def forward(self, embedding, target, pairs=None, sample_weight=None):
        """``pairs``: None (all pairs), (positive, negative) masks or pml's (a1, p, a2, n).

        ``(n, dim)`` embeddings give a scalar; ``(groups, n, dim)`` ones (labels
        ``(groups, n)``, masks ``(groups, n, n)``) the loss of each group.
        ``sample_weight`` (shaped like ``target``) weights each triplet by its
        anchor's weight: the weighted mean over the violating triplets.
        """
        positive, negative = pair_masks(target, pairs)
        normalised = F.normalize(embedding, p=2, dim=-1)
        distance = torch.cdist(normalised, normalised).double()
        with torch.no_grad():
            reach = distance + self.margin  # negatives closer than d_ap + margin violate
            # Row a: a's negative distances ascending (others +inf, last) and
            # a's positive reaches ascending (others -inf, first).
            negatives = distance.masked_fill(~negative, float("inf")).sort(dim=-1).values
            reaches = reach.masked_fill(~positive, float("-inf")).sort(dim=-1).values
            n_ap = torch.searchsorted(negatives, reach, side="left") * positive
            n_reaches = target.shape[-1]
            w_an = (n_reaches - torch.searchsorted(reaches, distance, side="right")) * negative
            weight = n_ap - w_an
            if sample_weight is not None:  # row a of every matrix is anchor a
                anchor = sample_weight.to(distance.dtype)[..., :, None]
                n_ap, weight = n_ap * anchor, weight * anchor
            count = n_ap.sum(dim=(-2, -1))
        # All weights are zero when no triplet violates: a zero loss with a graph.
        total = (distance * weight).sum(dim=(-2, -1)) + self.margin * count
        if sample_weight is not None:
            total = torch.where(count > 0, total / count.clamp_min(1e-300), 0.0)
            return total.to(embedding.dtype)
        return (total / count.clamp_min(1)).to(embedding.dtype)
