"""The hybrid loss of paper §3.2.3: a weighted sum of its parts."""

from torch import nn

from ._multi_similarity_miner import MultiSimilarityMiner
from ._supcon_loss import SupConLoss
from ._triplet_margin_loss import TripletMarginLoss


class HybridLoss(nn.Module):
    """``alpha * FVL + (1 - alpha) * (SupCon + Triplet)`` on ``(logits, embedding)``.

    Every part is injected; ``HybridLoss.paper(n_classes)`` builds the paper's.

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
    """

    def __init__(self, focal_variance, supcon, triplet, miner=None, alpha=0.5):
        super().__init__()
        self.focal_variance = focal_variance
        self.supcon = supcon
        self.triplet = triplet
        self.miner = miner
        self.alpha = alpha

    @classmethod
    def paper(cls, focal_variance, temperature=0.2, margin=0.5, alpha=0.5):
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
        )

    def forward(self, y_pred, target):
        logits, embedding = y_pred
        fvl = self.focal_variance(logits, embedding, target)
        if self.alpha == 1:
            return fvl
        tuples = self.miner(embedding, target) if self.miner is not None else None
        metric = self.supcon(embedding, target) + self.triplet(embedding, target, tuples)
        return self.alpha * fvl + (1 - self.alpha) * metric
