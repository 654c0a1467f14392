"""The hybrid loss of paper §3.2.3: a weighted sum of its parts."""

import torch
from torch import nn

from ._multi_similarity_miner import MultiSimilarityMiner
from ._supcon_loss import SupConLoss
from ._triplet_margin_loss import TripletMarginLoss


class HybridLoss(nn.Module):
    """``alpha * FVL + (1 - alpha) * (SupCon + Triplet)`` on ``(logits, embedding)``.

    Every part is injected; ``HybridLoss.paper(focal_variance)`` builds the paper's.

    Parameters
    ----------
    focal_variance : nn.Module
        Called as ``focal_variance(logits, embedding, target)``.
    supcon : nn.Module
        Called as ``supcon(embedding, target)`` (e.g. :class:`SupConLoss` or
        pytorch-metric-learning's).
    triplet : nn.Module
        Called as ``triplet(embedding, target, pairs)`` with the miner's output.
    miner : nn.Module or None
        Mines the pairs the triplet loss is built from; ``None`` uses all.
    alpha : float, default=0.5
        Weight of the focal-variance part.
    metric_group_size : int or None, default=None
        ``None`` computes SupCon and the triplet term over the whole batch
        (the paper). An int splits a larger batch into consecutive groups of
        this many rows (a smaller last group kept apart), computes both terms
        within each group and averages them over the groups: each group is
        what a batch of that size would contribute, at O(batch x group)
        rather than O(batch^2) cost. Needs group-aware parts (the ones of this
        package accept a leading group dimension).
    """

    def __init__(self, focal_variance, supcon, triplet, miner=None, alpha=0.5,
                 metric_group_size=None):
        super().__init__()
        self.focal_variance = focal_variance
        self.supcon = supcon
        self.triplet = triplet
        self.miner = miner
        self.alpha = alpha
        self.metric_group_size = metric_group_size

    @classmethod
    def paper(cls, focal_variance, temperature=0.2, margin=0.5, alpha=0.5,
              metric_group_size=None):
        """The paper's composition: SupCon(tau), Triplet(margin) on MultiSimilarity pairs.

        The three are pytorch-metric-learning's ``SupConLoss``,
        ``MultiSimilarityMiner`` and ``TripletMarginLoss`` with their default
        distances and reducers, re-implemented on boolean pair masks: the same
        values (tested against pml itself) at a fraction of the cost, as pml
        converts between masks and index tuples and lists every triplet.
        """
        return cls(
            focal_variance,
            SupConLoss(temperature=temperature),
            TripletMarginLoss(margin=margin),
            MultiSimilarityMiner(),
            alpha=alpha,
            metric_group_size=metric_group_size,
        )

    def forward(self, y_pred, target):
        logits, embedding = y_pred
        fvl = self.focal_variance(logits, embedding, target)
        if self.alpha == 1:
            return fvl
        group = self.metric_group_size
        if group is None or len(target) <= group:
            metric = self._metric(embedding, target)
        else:
            n_grouped = len(target) // group * group
            metric = self._metric(
                embedding[:n_grouped].unflatten(0, (-1, group)),
                target[:n_grouped].unflatten(0, (-1, group)),
            )
            if n_grouped < len(target):
                rest = self._metric(embedding[n_grouped:], target[n_grouped:])
                metric = torch.cat([metric, rest[None]])
            metric = metric.mean()
        return self.alpha * fvl + (1 - self.alpha) * metric

    def _metric(self, embedding, target):
        pairs = self.miner(embedding, target) if self.miner is not None else None
        return self.supcon(embedding, target) + self.triplet(embedding, target, pairs)
