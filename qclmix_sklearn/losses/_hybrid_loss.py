"""The hybrid loss of paper §3.2.3: a weighted sum of its parts."""

import torch
from torch import nn

from ._focal_variance_loss import FocalVarianceLoss
from ._supcon_triplet_loss import SupConTripletLoss
from ._weighting import weighted_mean


class HybridLoss(nn.Module):
    """``alpha * FVL + (1 - alpha) * metric`` on ``(logits, embedding)``.

    Both parts are injected; ``HybridLoss.paper(focal_variance)`` builds the paper's.

    Parameters
    ----------
    focal_variance : nn.Module
        Called as ``focal_variance(logits, embedding, target)``, and with
        ``sample_weight`` as a fourth argument when there are weights.
    metric : nn.Module
        The metric term, called as ``metric(embedding, target)``:
        :class:`SupConTripletLoss` (the paper's, built in; it also takes
        ``sample_weight``) or any pytorch-metric-learning loss
        (``MultipleLosses`` sums several, each with its own miner).
    alpha : float, default=0.5
        Weight of the focal-variance part.
    metric_group_size : int or None, default=None
        ``None`` computes the metric term over the whole batch (the paper).
        An int splits a larger batch into consecutive groups of this many
        rows (a smaller last group kept apart), computes the term within each
        group and averages it over the groups: each group is what a batch of
        that size would contribute, at O(batch x group) rather than
        O(batch^2) cost.
    """

    def __init__(self, focal_variance, metric, alpha=0.5, metric_group_size=None):
        super().__init__()
        self.focal_variance = focal_variance
        self.metric = metric
        self.alpha = alpha
        self.metric_group_size = metric_group_size

    @classmethod
    def paper(cls, focal_variance, temperature=0.2, margin=0.5, alpha=0.5,
              metric_group_size=None):
        """The paper's composition: SupCon(tau), Triplet(margin) on MultiSimilarity pairs.

        The built-in :class:`SupConTripletLoss`: pytorch-metric-learning's
        values (tested against pml itself, see :meth:`paper_pml`) at a
        fraction of the cost.
        """
        return cls(focal_variance, SupConTripletLoss(temperature, margin), alpha=alpha,
                   metric_group_size=metric_group_size)

    @classmethod
    def paper_pml(cls, focal_variance, temperature=0.2, margin=0.5, miner=None, alpha=0.5,
                  metric_group_size=None):
        """The paper's composition built from pytorch-metric-learning's own objects.

        Its ``MultipleLosses`` of ``SupConLoss(temperature)`` and
        ``TripletMarginLoss(margin)``, the triplet loss on the tuples of
        ``miner`` (pml's pair or triplet miners). ``miner=None``: pml's
        ``MultiSimilarityMiner()``, the same values as :meth:`paper`, slower.
        """
        from pytorch_metric_learning import losses, miners

        miner = miners.MultiSimilarityMiner() if miner is None else miner
        metric = losses.MultipleLosses(
            {"supcon": losses.SupConLoss(temperature=temperature),
             "triplet": losses.TripletMarginLoss(margin=margin)},
            miners={"triplet": miner},
        )
        return cls(focal_variance, metric, alpha=alpha, metric_group_size=metric_group_size)

    @classmethod
    def with_metric_loss(cls, focal_variance, metric_loss, miner=None, alpha=0.5,
                         metric_group_size=None):
        """``alpha * FVL + (1 - alpha) * metric_loss(embedding, labels, miner(...))``.

        ``metric_loss`` is any pytorch-metric-learning loss (called as
        ``loss(embeddings, labels, indices_tuple)``), ``miner`` any of its
        miners or ``None`` (all pairs, the loss's own default).
        """
        if miner is not None:
            from pytorch_metric_learning.losses import MultipleLosses

            metric_loss = MultipleLosses([metric_loss], miners=[miner])
        return cls(focal_variance, metric_loss, alpha=alpha,
                   metric_group_size=metric_group_size)

    @property
    def accepts_leading_dimensions(self):
        """Whether inputs with leading dimensions give one loss each, in one call.

        ``logits`` ``(..., n, n_classes)``, ``embedding`` ``(..., n, dim)``,
        ``target`` and ``sample_weight`` ``(..., n)`` then give losses
        ``(...)``: true when both parts take such inputs (this package's
        :class:`FocalVarianceLoss` and :class:`SupConTripletLoss` do;
        pytorch-metric-learning's losses take one batch).
        """
        return (isinstance(self.focal_variance, FocalVarianceLoss)
                and (self.alpha == 1 or isinstance(self.metric, SupConTripletLoss)))

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

    def _metric(self, embedding, target, sample_weight=None):
        if sample_weight is None or not isinstance(self.metric, SupConTripletLoss):
            return self.metric(embedding, target)
        return self.metric(embedding, target, sample_weight)

    def _grouped_metric(self, embedding, target, sample_weight, group):
        """The metric terms of consecutive groups, averaged (weighted by group weight)."""
        n = target.shape[-1]
        n_grouped = n // group * group

        def grouped(t, rows_dim):
            return None if t is None else t.narrow(rows_dim, 0, n_grouped).unflatten(
                rows_dim, (-1, group))

        if isinstance(self.metric, SupConTripletLoss):  # every group in one call
            metric = self._metric(grouped(embedding, -2), grouped(target, -1),
                                  grouped(sample_weight, -1))
        else:  # pml's losses take one group at a time (and no weights)
            metric = torch.stack([self._metric(embedding[a:a + group], target[a:a + group])
                                  for a in range(0, n_grouped, group)])
        if n_grouped < n:
            rest = self._metric(embedding[..., n_grouped:, :], target[..., n_grouped:],
                                None if sample_weight is None else sample_weight[..., n_grouped:])
            metric = torch.cat([metric, rest[..., None]], dim=-1)
        if sample_weight is None:
            return metric.mean(dim=-1)
        group_weight = grouped(sample_weight, -1).sum(dim=-1)
        if n_grouped < n:
            rest_weight = sample_weight[..., n_grouped:].sum(dim=-1, keepdim=True)
            group_weight = torch.cat([group_weight, rest_weight], dim=-1)
        return weighted_mean(metric, group_weight.to(metric.dtype))
