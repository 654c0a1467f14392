"""The hybrid loss of paper §3.2.3: a weighted sum of its parts."""

import torch
from torch import nn

from ._focal_variance_loss import FocalVarianceLoss
from ._fused_metric import fused_metric
from ._multi_similarity_miner import MultiSimilarityMiner
from ._supcon_loss import SupConLoss
from ._triplet_margin_loss import TripletMarginLoss
from ._weighting import weighted_mean


class HybridLoss(nn.Module):
    """``alpha * FVL + (1 - alpha) * (SupCon + Triplet)`` on ``(logits, embedding)``.

    Every part is injected; ``HybridLoss.paper(focal_variance)`` builds the paper's.

    Parameters
    ----------
    focal_variance : nn.Module
        Called as ``focal_variance(logits, embedding, target)``.
    supcon : nn.Module or None
        The unmined metric term, called as ``supcon(embedding, target)`` (e.g.
        :class:`SupConLoss` or pytorch-metric-learning's); ``None``: none.
    triplet : nn.Module or None
        The mined metric term, called as ``triplet(embedding, target, pairs)``
        with the miner's output (:class:`TripletMarginLoss`, or any
        pytorch-metric-learning loss); ``None``: none.
    miner : nn.Module or None
        Mines the pairs (or triplets) of the mined term; ``None`` uses all.
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

    @classmethod
    def paper_pml(cls, focal_variance, temperature=0.2, margin=0.5, alpha=0.5,
                  metric_group_size=None):
        """The paper's composition built from pytorch-metric-learning's own objects.

        Its ``SupConLoss(temperature)``, ``TripletMarginLoss(margin)`` and
        ``MultiSimilarityMiner()``: the same values as :meth:`paper`, slower.
        """
        from pytorch_metric_learning import losses, miners

        return cls(
            focal_variance,
            losses.SupConLoss(temperature=temperature),
            losses.TripletMarginLoss(margin=margin),
            miners.MultiSimilarityMiner(),
            alpha=alpha,
            metric_group_size=metric_group_size,
        )

    @classmethod
    def with_metric_loss(cls, focal_variance, metric_loss, miner=None, alpha=0.5,
                         metric_group_size=None):
        """``alpha * FVL + (1 - alpha) * metric_loss(embedding, labels, miner(...))``.

        ``metric_loss`` is any pytorch-metric-learning loss (called as
        ``loss(embeddings, labels, indices_tuple)``), ``miner`` any of its
        miners or ``None`` (all pairs, the loss's own default).
        """
        return cls(focal_variance, None, metric_loss, miner, alpha=alpha,
                   metric_group_size=metric_group_size)

    def forward(self, y_pred, target, sample_weight=None):
        """``sample_weight`` (n,) or None: per-row weights, passed to every part that takes them.

        The parts of this package take them (weighted means over rows, SupCon
        and triplet anchors); pytorch-metric-learning's losses and miners take
        no per-row weights and are called without them.
        """
        logits, embedding = y_pred
        if sample_weight is None:
            fvl = self.focal_variance(logits, embedding, target)
        else:
            fvl = self.focal_variance(logits, embedding, target, sample_weight)
        if self.alpha == 1:
            return fvl
        group = self.metric_group_size
        if group is None or target.shape[-1] <= group:
            metric = self._metric(embedding, target, sample_weight)
        else:
            metric = self._grouped_metric(embedding, target, sample_weight, group)
        return self.alpha * fvl + (1 - self.alpha) * metric

    def takes_member_dimension(self, batch_size):
        """Whether batches of shape ``(members, batch_size, ...)`` give one loss per member.

        True when every part accepts leading dimensions (this package's do)
        and batches of ``batch_size`` rows are not split into metric groups.
        Stacked ensemble members (:class:`~qclmix_sklearn._stacked_members.StackedMembers`)
        then call the loss once for all members instead of through ``vmap``.
        """
        group = self.metric_group_size
        return (isinstance(self.focal_variance, FocalVarianceLoss)
                and self._takes_group_dimension()
                and (self.alpha == 1 or group is None or batch_size <= group))

    def _grouped_metric(self, embedding, target, sample_weight, group):
        """The metric terms of consecutive groups, averaged (weighted by group weight)."""
        n_grouped = len(target) // group * group
        starts = range(0, n_grouped, group)

        def part(t, start, stop):
            return None if t is None else t[start:stop]

        if self._takes_group_dimension():
            def grouped(t):
                return None if t is None else t[:n_grouped].unflatten(0, (-1, group))

            metric = self._metric(grouped(embedding), grouped(target), grouped(sample_weight))
        else:  # pml's parts take one group at a time
            metric = torch.stack([
                self._metric(*(part(t, a, a + group) for t in (embedding, target, sample_weight)))
                for a in starts
            ])
        if n_grouped < len(target):
            rest = self._metric(embedding[n_grouped:], target[n_grouped:],
                                part(sample_weight, n_grouped, None))
            metric = torch.cat([metric, rest[None]])
        if sample_weight is None:
            return metric.mean()
        group_weight = sample_weight[:n_grouped].unflatten(0, (-1, group)).sum(dim=1)
        if n_grouped < len(target):
            group_weight = torch.cat([group_weight, sample_weight[n_grouped:].sum()[None]])
        return weighted_mean(metric, group_weight.to(metric.dtype))

    def _takes_group_dimension(self):
        return all(part is None or isinstance(part, _OWN_PARTS)
                   for part in (self.supcon, self.triplet, self.miner))

    def _metric(self, embedding, target, sample_weight=None):
        fused = self._fused_settings()
        if fused is not None:  # the same terms in one graph node (see _fused_metric)
            return fused_metric(embedding, target, *fused, sample_weight=sample_weight)
        pairs = self.miner(embedding, target) if self.miner is not None else None
        terms = []
        if self.supcon is not None:
            terms.append(self._call(self.supcon, sample_weight, embedding, target))
        if self.triplet is not None:
            terms.append(self._call(self.triplet, sample_weight, embedding, target, pairs))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def _fused_settings(self):
        """The ``(temperature, margin, epsilon)`` of :func:`fused_metric`, or None (other parts)."""
        supcon, triplet, miner = self.supcon, self.triplet, self.miner
        if ((supcon is None and triplet is None)
                or not (supcon is None or type(supcon) is SupConLoss)
                or not (triplet is None or type(triplet) is TripletMarginLoss)
                or not (miner is None or type(miner) is MultiSimilarityMiner)):
            return None
        return (None if supcon is None else supcon.temperature,
                None if triplet is None else triplet.margin,
                None if miner is None or triplet is None else miner.epsilon)

    @staticmethod
    def _call(part, sample_weight, *args):
        if sample_weight is not None and isinstance(part, _OWN_PARTS):
            return part(*args, sample_weight=sample_weight)
        return part(*args)


_OWN_PARTS = (SupConLoss, TripletMarginLoss, MultiSimilarityMiner)
