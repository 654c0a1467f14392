"""Focal Variance Loss (paper §3.2.3): focal CE plus learnable class centroids."""

import torch
from torch import nn
from torch.nn import functional as F

from ._weighting import weighted_mean


class FocalVarianceLoss(nn.Module):
    """``mean[(1 - p_t)^gamma * CE + beta * ||e - c_y||^2] - log sigmoid(mean_{j!=k} ||c_j - c_k||)``.

    The centroids ``c`` are parameters of the loss, trained with the network.
    The separation term runs over the classes present in the batch and is
    zero when fewer than two are.

    Parameters
    ----------
    n_classes : int
        Number of classes (rows of the centroid matrix).
    embedding_dim : int, default=8
        Width of the embedding the centroids live in.
    gamma : float, default=3.0
        Focusing exponent of the focal term.
    beta : float, default=0.8
        Weight of the intra-class compactness term.
    label_smoothing : float, default=0.0
        Label smoothing ``eps`` of the focal term: the target becomes
        ``q = (1 - eps) * one_hot + eps / C`` and the term ``sum_c q_c (1 -
        p_c)^gamma * -log p_c``, which at ``gamma=0`` is torch's
        ``cross_entropy(label_smoothing=eps)``. Each class's term keeps its own
        focal factor, so the smoothing still penalises a confident prediction
        (``p_t -> 1``), whose target term the factor silences.
    logit_offsets : array-like of shape (n_classes,) or None, default=None
        Added to the logits of the focal term's log-loss, in the loss only
        (not in the network's predictions): ``tau * log(class prior)`` is the
        logit-adjusted loss of Menon et al. (ICLR 2021). The focal factor
        ``(1 - p_t)^gamma`` keeps the plain logits' ``p_t``. ``None``: none.
    """

    def __init__(self, n_classes, embedding_dim=8, gamma=3.0, beta=0.8, label_smoothing=0.0,
                 logit_offsets=None):
        super().__init__()
        self.gamma = gamma
        self.beta = beta
        self.label_smoothing = label_smoothing
        # A plain tensor, not a buffer: a setting rather than state, kept by
        # copies moved to another device (or to "meta"); _focal moves it to
        # the logits' device on first use.
        self.logit_offsets = (None if logit_offsets is None
                              else torch.as_tensor(logit_offsets, dtype=torch.float32))
        self.centroids = nn.Parameter(torch.randn(n_classes, embedding_dim))

    def forward(self, logits, embedding, target, sample_weight=None):
        """``sample_weight`` (n,): the focal and centroid terms become weighted means.

        The separation term then runs over the classes with positive weight in
        the batch; rows of weight 0 contribute nothing at all. Leading
        dimensions (``logits (..., n, C)``, ``embedding (..., n, dim)``,
        ``target (..., n)``) give one loss each; the centroids may carry
        leading dimensions too (``(..., C, dim)``: one centroid matrix per
        loss), which broadcast with the inputs'.
        """
        focal = self._focal(logits, target)
        centroids = self.centroids.expand(*target.shape[:-1], *self.centroids.shape[-2:])
        own = torch.take_along_dim(centroids, target[..., None], dim=-2)  # each row's c_y
        compactness = (embedding - own).pow(2).sum(dim=-1)
        per_row = focal + self.beta * compactness
        if sample_weight is None:
            return per_row.mean(dim=-1) + self._separation(target)
        weight = sample_weight.to(per_row.dtype)
        return weighted_mean(per_row, weight) + self._separation(target, weight)

    def _focal(self, logits, target):
        """Each row's focal term (with the label smoothing and logit offsets, if any)."""
        # Focal term in log space: no log(0) and no NaN gradient as p_t -> 1.
        log_p = F.log_softmax(logits, dim=-1)
        factor_log_p = log_p  # the focal factor's probabilities: always the plain ones
        if self.logit_offsets is not None:
            if self.logit_offsets.device != logits.device:  # moved once, on first use
                self.logit_offsets = self.logit_offsets.to(logits.device)
            # Only the log-loss sees the offsets. A factor of the adjusted p_t
            # would call a majority row easy before any training (its offset
            # alone makes p_t large) and silence it: on dev's car-good, tau=1
            # at gamma=3 then predicted the minority class almost everywhere.
            log_p = F.log_softmax(logits + self.logit_offsets.to(logits.dtype), dim=-1)
        log_pt = log_p.gather(-1, target[..., None]).squeeze(-1)
        factor_pt = factor_log_p.gather(-1, target[..., None]).squeeze(-1)
        focal = (-torch.expm1(factor_pt)).clamp_min(0).pow(self.gamma) * -log_pt
        if not self.label_smoothing:
            return focal
        # sum_c q_c f_c = (1 - eps) f_t + eps * mean_c f_c for q = (1 - eps) one_hot + eps / C.
        every_class = (-torch.expm1(factor_log_p)).clamp_min(0).pow(self.gamma) * -log_p
        eps = self.label_smoothing
        return (1 - eps) * focal + eps * every_class.mean(dim=-1)

    def _separation(self, target, sample_weight=None):
        # Over the ordered pairs of present classes, from masks rather than
        # torch.unique or in-place indexing: no data-dependent shapes (no
        # device sync per batch), and it runs under vmap.
        classes = torch.arange(self.centroids.shape[-2], device=target.device)
        member = target[..., :, None] == classes  # (..., n, n_classes)
        if sample_weight is None:
            present = member.any(dim=-2)
        else:
            present = (member * sample_weight[..., :, None]).sum(dim=-2) > 0
        pairs = present[..., :, None] & present[..., None, :] & (classes[:, None] != classes)
        n_pairs = pairs.sum(dim=(-2, -1))
        distances = torch.cdist(self.centroids, self.centroids)
        mean_distance = (distances * pairs).sum(dim=(-2, -1)) / n_pairs.clamp_min(1)
        # softplus(-m) == -log(sigmoid(m)), stably; zero below two classes.
        return torch.where(n_pairs > 0, F.softplus(-mean_distance), 0.0)
