"""kNN-guided dynamic mixup (paper §3.2.2): the maths and its skorch callback."""

import numpy as np
import torch
from skorch.callbacks import Callback


def _draw(rng, n, alpha):
    """Uniform numbers choosing each partner and the anchors' weights lam."""
    uniform = rng.random(n)
    lam = rng.beta(alpha, alpha, size=n)
    return uniform, np.maximum(lam, 1.0 - lam)


def _partners(space, n_neighbors, uniform, labels=None):
    """One of the k nearest other rows of each row of ``space`` (..., n, dim).

    With ``labels`` (..., n) only rows of the same label qualify. A row without
    a qualifying row (alone, or the only one of its label) is its own partner:
    its mix is itself.
    """
    n = space.shape[-2]
    k = min(n_neighbors, n - 1)
    if k < 1:
        return torch.zeros(space.shape[:-1], dtype=torch.long, device=space.device)
    distances = torch.cdist(space, space)
    if labels is None:
        # Every other row qualifies: each row has its k neighbours (finite
        # distances of finite rows), so the pick needs no count.
        distances.diagonal(dim1=-2, dim2=-1).fill_(float("inf"))
        neighbours = distances.topk(k, dim=-1, largest=False).indices
        pick = (uniform * k).long().clamp_(min=0, max=k - 1)
        return neighbours.gather(-1, pick[..., None]).squeeze(-1)
    excluded = torch.eye(n, dtype=torch.bool, device=space.device)
    excluded = excluded | (labels[..., :, None] != labels[..., None, :])
    distances = distances.masked_fill(excluded, float("inf"))
    nearest, neighbours = distances.topk(k, dim=-1, largest=False)
    # Each row picks uniformly among its qualifying neighbours (k of them, or fewer).
    available = torch.isfinite(nearest).sum(-1)
    pick = (uniform * available).long().clamp_(min=0).minimum((available - 1).clamp_(min=0))
    partner = neighbours.gather(-1, pick[..., None]).squeeze(-1)
    itself = torch.arange(n, device=space.device).expand_as(partner)
    return torch.where(available > 0, partner, itself)


def _mix(X, features, n_neighbors, uniform, lam, group_size=None, labels=None):
    """The mix of X given the draws (tensors on X's device); ``labels``: same-label partners."""
    n = X.shape[0]
    if n < 2:
        return X.clone(), torch.zeros(n, dtype=torch.long, device=X.device), torch.ones_like(lam)
    space = X if features is None else features
    if group_size is None or n <= group_size:
        partner = _partners(space, n_neighbors, uniform, labels)
    else:
        # Partners within consecutive groups of rows, a smaller last group apart.
        n_grouped = n // group_size * group_size

        def grouped(t):
            return None if t is None else t[:n_grouped].unflatten(0, (-1, group_size))

        local = _partners(grouped(space), n_neighbors, grouped(uniform), grouped(labels))
        offsets = torch.arange(0, n_grouped, group_size, device=X.device)[:, None]
        partner = [(local + offsets).flatten()]
        if n_grouped < n:
            rest = _partners(space[n_grouped:], n_neighbors, uniform[n_grouped:],
                             None if labels is None else labels[n_grouped:])
            partner.append(rest + n_grouped)
        partner = torch.cat(partner)
    weight = lam[:, None]
    X_mix = weight * X + (1.0 - weight) * X[partner]
    return X_mix, partner, lam


def next_draws(group, size, device):
    """Stacked members' next mixup draws for batches of ``size`` rows: ``(2, g, size)``.

    ``group``: the members, each with its own ``KNNMixup`` as ``mixup``
    (see :meth:`KNNMixup.next_draws`).
    """
    return torch.stack([m.mixup.next_draws(size, device) for m in group], dim=1)


def mix_batches(stack, mixup, index, X, y, uniform, lam):
    """The mixes of the batches ``X`` ``(g, size, D)`` of stacked members, each with its draws.

    ``stack``: the :class:`~qclmix_sklearn.training._stacked_members.StackedMembers`
    (for ``mixup.space='embedding'``); ``index``: which of its members the g
    batches belong to (None: all); ``uniform``, ``lam``: ``(g, size)`` draws.
    """
    uniform, lam = uniform.to(X.device, X.dtype), lam.to(X.device, X.dtype)
    size = X.shape[1]
    features = None
    if mixup.space == "embedding":
        members = None if index is None or len(index) == stack.n_members else index
        features = stack.outputs(X, members=members)[1]
    labels = y if mixup.same_class else None
    if mixup.group_size is not None and size > mixup.group_size or size < 2:
        return torch.stack([
            _mix(X[g], None if features is None else features[g], mixup.n_neighbors,
                 uniform[g], lam[g], mixup.group_size, None if labels is None else labels[g])[0]
            for g in range(len(X))])
    space = X if features is None else features
    partner = _partners(space, mixup.n_neighbors, uniform, labels)
    weight = lam[..., None]
    return weight * X + (1.0 - weight) * X.gather(1, partner[..., None].expand_as(X))


def knn_mixup(X, *, n_neighbors=5, alpha=0.2, rng=None, features=None, group_size=None,
              labels=None):
    """Mix every row of a batch with one of its nearest neighbours in the batch.

    For each anchor ``x_i`` one of its ``k`` nearest neighbours ``x_j`` (Euclidean,
    itself excluded, ``k`` capped at ``len(X) - 1``) is drawn uniformly, and
    ``x_mix = lam * x_i + (1 - lam) * x_j`` with ``lam = max(l, 1 - l)``,
    ``l ~ Beta(alpha, alpha)``, so the anchor always dominates its mix and
    keeps its own label. Neighbours come from the batch only: no N x N matrix
    of the training set is ever formed.

    Parameters
    ----------
    X : torch.Tensor of shape (batch, n_features)
        The batch to mix.
    n_neighbors : int, default=5
        Number of nearest neighbours to draw the partner from.
    alpha : float, default=0.2
        Concentration of the Beta distribution of the mixing weight.
    rng : numpy.random.Generator or None, default=None
        Source of the random draws.
    features : torch.Tensor of shape (batch, n_dims) or None, default=None
        The space the neighbours are searched in; ``None`` uses ``X``.
    group_size : int or None, default=None
        Search the neighbours within consecutive groups of this many rows
        (a smaller last group apart) rather than in the whole batch.
    labels : torch.Tensor of shape (batch,) or None, default=None
        Only rows of the anchor's own label are partners; an anchor without
        one is left unmixed. ``None``: any row.

    Returns
    -------
    X_mix : torch.Tensor of shape (batch, n_features)
    partner : torch.Tensor of shape (batch,)
        Row index of each anchor's partner (the anchor itself in a batch of one).
    lam : torch.Tensor of shape (batch,)
        Weight of the anchor in its mix.
    """
    rng = np.random.default_rng() if rng is None else rng
    uniform, lam = _draw(rng, X.shape[0], alpha)
    uniform = torch.from_numpy(uniform).to(X.device, X.dtype)
    lam = torch.from_numpy(lam).to(X.device, X.dtype)
    return _mix(X, features, n_neighbors, uniform, lam, group_size, labels)


class KNNMixup(Callback):
    """Apply :func:`knn_mixup` to every training batch before its step.

    Design choice: skorch hands ``on_batch_begin`` the very batch tensor that
    the training step then uses, so the mix is written into it in place. That
    is safe because the training batch iterators (skorch's ``DataLoader`` or
    :class:`~qclmix_sklearn.training._tensor_batches.TensorBatches`) give a freshly
    allocated tensor for every batch; the callback refuses a batch that is a
    view of other data, which would otherwise be corrupted. Validation and
    prediction batches are never mixed (``training`` is False for them), and
    labels are left as they are: the loss is supervised by the anchor's own
    label.

    The random draws of a whole epoch are made at its start and moved to the
    network's device at once: no host-to-device copy per batch.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours to draw each partner from.
    alpha : float, default=0.2
        Beta concentration of the mixing weight.
    space : {'input', 'embedding'}, default='input'
        Where neighbours are searched: the raw inputs (paper's Algorithm 1) or
        the network's current embedding (paper's definition), computed without
        gradient and in eval mode so BatchNorm statistics are not disturbed.
    random_state : int or None, default=None
        Seed of the draws; reset by ``initialize``.
    group_size : int or None, default=None
        Search partners within consecutive groups of this many rows of a
        batch (see :func:`knn_mixup`); ``None``: the whole batch.
    same_class : bool, default=False
        Draw partners among the anchor's own class only (the label every mix
        keeps), rather than among all rows.
    """

    def __init__(self, n_neighbors=5, alpha=0.2, space="input", random_state=None,
                 group_size=None, same_class=False):
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.space = space
        self.random_state = random_state
        self.group_size = group_size
        self.same_class = same_class

    def initialize(self):
        self.rng_ = np.random.default_rng(self.random_state)
        self.draws_ = None
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        n = len(dataset_train) if dataset_train is not None else 0
        self.start_epoch(n, getattr(net, "device", "cpu"))

    def start_epoch(self, n, device):
        """Draw the epoch's partner positions and weights for its ``n`` rows.

        The callback does at each epoch's start, and the stacked members'
        loop for each member's epoch: the same random stream either way.
        """
        self.draws_ = self._epoch_draws(n, device)

    def next_draws(self, n, device):
        """The next ``n`` rows' ``(uniform, lam)`` draws, ``(2, n)`` float32 on ``device``.

        The epoch's, in order; past their end (a batch outside skorch's
        epoch loop), a fresh table of ``n``.
        """
        if self.draws_ is None or self.draws_[1] + n > self.draws_[0].shape[1]:
            self.draws_ = self._epoch_draws(n, device)
        table, used = self.draws_
        self.draws_ = table, used + n
        return table[:, used:used + n]

    def _epoch_draws(self, n, device):
        uniform, lam = _draw(self.rng_, n, self.alpha)
        return torch.from_numpy(np.stack([uniform, lam])).to(device, torch.float32), 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        X = batch[0]
        if not isinstance(X, torch.Tensor) or X._is_view():
            raise TypeError("KNNMixup needs each training batch as a freshly collated tensor.")
        uniform, lam = self.next_draws(X.shape[0], X.device).to(X.device, X.dtype)
        features = self._embedding(net, X) if self.space == "embedding" else None
        labels = batch[1] if self.same_class else None
        if isinstance(labels, (tuple, list)):  # (labels, sample weights)
            labels = labels[0]
        X_mix, _, _ = _mix(X, features, self.n_neighbors, uniform, lam, self.group_size, labels)
        X.copy_(X_mix)

    @staticmethod
    def _embedding(net, X):
        module = net.module_
        module.eval()
        try:
            with torch.no_grad():
                embedding = module(X.to(net.device))[1]
        finally:
            module.train()
        return embedding.to(X.device)
