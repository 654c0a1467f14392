"""The paper's metric term: SupCon plus the triplet loss on multi-similarity-mined pairs.

pytorch-metric-learning computes it as three objects (``SupConLoss``,
``MultiSimilarityMiner``, ``TripletMarginLoss``), each normalising the
embeddings, building label masks and a pairwise matrix of its own and
converting between masks and index tuples, and it lists every triplet
through a (positive pairs x negative pairs) matrix; autograd then walks a
graph of some forty small operations. On a batch of 64 that bookkeeping,
not the arithmetic, is the cost. :class:`SupConTripletLoss` computes the
three from one normalisation, one set of label masks and one similarity
matrix (the Euclidean distances from ``cdist`` of the same normalised
embeddings, as pml's), and writes the gradient out: each term's derivative
with respect to its pairwise matrix is a closed form (below), and the chain
through the matrix product, ``cdist`` and the normalisation is three matrix
operations. Tested equal to pytorch-metric-learning (values and gradients,
``tests/test_losses_equal_pml.py``).
"""

import torch
from torch import nn


class SupConTripletLoss(nn.Module):
    """``SupCon(temperature) + Triplet(margin)`` on MultiSimilarity(``epsilon``)-mined pairs.

    The values of pytorch-metric-learning's ``SupConLoss(temperature)`` plus
    ``TripletMarginLoss(margin)`` on the pairs of
    ``MultiSimilarityMiner(epsilon)``, with pml's default distances and
    reducers, as one autograd node:

    - SupCon (Khosla et al. 2020): with ``s`` the cosine similarity, anchor
      ``a`` has ``l_a = -mean_{p in P(a)} log softmax_{b != a}(s(a, .) / tau)[p]``
      (after pml's stabilising shift by the row maximum); the term is the
      mean of the ``l_a > 0`` (pml's ``AvgNonZeroReducer``).
    - The miner keeps the positive pairs ``(a, p)`` with
      ``s(a, p) - epsilon < max_n s(a, n)`` and the negative pairs ``(a, n)``
      with ``s(a, n) + epsilon > min_p s(a, p)``, compared on the similarity
      matrix itself rather than through pml's sorted index tuples.
    - Triplet: over every ``(a, p, n)`` of a mined positive ``(a, p)`` and
      negative ``(a, n)``, ``l = relu(d(a, p) - d(a, n) + margin)`` on the
      Euclidean distance ``d``, averaged over the triplets with ``l > 0``.
      Without listing them: the sum over the violating triplets regroups by
      pair, ``sum_ap n_ap (d_ap + margin) - sum_an w_an d_an``, where
      ``n_ap`` counts the negatives of ``a`` with ``d_an < d_ap + margin`` and
      ``w_an`` its positives with the same inequality, both from sorting
      each anchor's distances and ``searchsorted``, in float64 (the two sums
      cancel), in O(n^2 log n).

    Each term is zero when the batch has no positive or no negative pair.

    Parameters
    ----------
    temperature : float or None, default=0.2
        SupCon's tau (the paper's; pml's default is 0.1). None: no SupCon term.
    margin : float or None, default=0.5
        The triplet margin (the paper's; pml's default is 0.05). None: no
        triplet term.
    epsilon : float or None, default=0.1
        The miner's slack (pml's default). None: the triplet term over all
        pairs (no miner).
    """

    def __init__(self, temperature=0.2, margin=0.5, epsilon=0.1):
        super().__init__()
        self.temperature = temperature
        self.margin = margin
        self.epsilon = epsilon

    def forward(self, embedding, target, sample_weight=None):
        """The loss of ``embedding`` ``(..., n, dim)`` with labels ``target`` ``(..., n)``.

        Leading dimensions give one loss each (``(...)``); it runs under
        ``torch.func.vmap`` too. ``sample_weight`` ``(..., n)``: SupCon's
        counted anchors are averaged with these weights, and each triplet is
        weighted by its anchor's weight.
        """
        return _FusedMetric.apply(embedding, target, sample_weight, self.temperature,
                                  self.margin, self.epsilon)[0]


def _any_pair(mask):
    """Whether each batch of a ``(..., n, n)`` mask holds a pair, shaped ``(..., 1, 1)``."""
    return mask.flatten(-2).any(dim=-1)[..., None, None]


def _supcon(similarity, itself, positive, has_both, temperature, weight):
    """SupCon's value and its derivative in the similarity."""
    logits = similarity / temperature
    logits = logits - logits.amax(dim=-1, keepdim=True)
    lowest, tiny = torch.finfo(logits.dtype).min, torch.finfo(logits.dtype).tiny
    denominator = torch.logsumexp(logits.masked_fill(itself, lowest), dim=-1, keepdim=True)
    if itself.shape[-1] == 1:  # no other row: pml's denominator is 0
        denominator = torch.zeros_like(denominator)
    log_prob = logits - denominator
    positive = positive.to(logits.dtype)
    n_positive = positive.sum(dim=-1)
    losses = -(positive * log_prob).sum(dim=-1) / (n_positive + tiny)
    counted = ((losses > 0) & has_both[..., 0]).to(logits.dtype)
    if weight is None:
        n_counted = counted.sum(dim=-1).clamp_min(1)
        value = (losses * counted).sum(dim=-1) / n_counted
        coefficient = counted / n_counted[..., None]
    else:  # weighted_mean(losses, counted * weight), unrolled
        counted = counted * weight.to(logits.dtype)
        total = counted.sum(dim=-1)
        clamped = total.clamp_min(torch.finfo(total.dtype).tiny)
        value = torch.where(total > 0, (losses * counted).sum(dim=-1) / clamped, 0.0)
        coefficient = torch.where(total[..., None] > 0, counted / clamped[..., None], 0.0)
    # d l_a / d logits_ab = softmax_{b != a}(logits_a)_b |P(a)| / (|P(a)| + tiny)
    #                       - [b in P(a)] / (|P(a)| + tiny); the row shift is detached.
    softmax = log_prob.exp().masked_fill(itself, 0.0)
    scale = (coefficient / (n_positive + tiny) / temperature)[..., None]
    gradient = (softmax * n_positive[..., None] - positive) * scale
    return value, gradient


def _mined(similarity, positive, negative, has_both, epsilon):
    """The multi-similarity miner's pairs, as masks (pml mines none without both kinds)."""
    lowest, highest = torch.finfo(similarity.dtype).min, torch.finfo(similarity.dtype).max
    hardest_negative = similarity.masked_fill(~negative, lowest).amax(dim=-1, keepdim=True)
    hardest_positive = similarity.masked_fill(~positive, highest).amin(dim=-1, keepdim=True)
    hard_positive = positive & (similarity - epsilon < hardest_negative)
    hard_negative = negative & (similarity + epsilon > hardest_positive)
    return hard_positive & has_both, hard_negative & has_both


def _triplet(normalised, positive, negative, margin, weight):
    """The triplet term's value, its distances and derivative (regrouped by pair)."""
    distance32 = torch.cdist(normalised, normalised)
    distance = distance32.double()
    reach = distance + margin
    negatives = distance.masked_fill(~negative, float("inf")).sort(dim=-1).values
    reaches = reach.masked_fill(~positive, float("-inf")).sort(dim=-1).values
    n_ap = torch.searchsorted(negatives, reach, side="left") * positive
    w_an = (positive.shape[-1] - torch.searchsorted(reaches, distance, side="right")) * negative
    pair_weight = n_ap - w_an
    if weight is not None:
        anchor = weight.to(distance.dtype)[..., :, None]
        n_ap, pair_weight = n_ap * anchor, pair_weight * anchor
    count = n_ap.sum(dim=(-2, -1))
    total = (distance * pair_weight).sum(dim=(-2, -1)) + margin * count
    if weight is None:
        divisor = count.clamp_min(1)
        value = total / divisor
    else:
        divisor = torch.where(count > 0, count.clamp_min(1e-300), float("inf"))
        value = torch.where(count > 0, total / count.clamp_min(1e-300), 0.0)
    value = value.to(normalised.dtype)
    gradient = (pair_weight / divisor[..., None, None]).to(normalised.dtype)
    return value, distance32, gradient


class _FusedMetric(torch.autograd.Function):
    # Outputs: the loss, then what backward needs (not differentiable).
    generate_vmap_rule = True

    @staticmethod
    def forward(embedding, target, sample_weight, temperature, margin, epsilon):
        same = target[..., :, None] == target[..., None, :]
        itself = torch.eye(target.shape[-1], dtype=torch.bool, device=target.device)
        positive, negative = same & ~itself, ~same
        has_both = _any_pair(positive) & _any_pair(negative)
        # F.normalize: x / max(||x||, 1e-12).
        norm = torch.linalg.vector_norm(embedding, dim=-1, keepdim=True).clamp_min(1e-12)
        normalised = embedding / norm
        similarity = normalised @ normalised.transpose(-1, -2)
        value = torch.zeros(embedding.shape[:-2], dtype=embedding.dtype,
                            device=embedding.device)
        # dL/dsimilarity - dL/ddistance / distance: the pairwise part of the gradient.
        pairwise = torch.zeros_like(similarity)
        radial = torch.zeros_like(norm)
        if temperature is not None:
            supcon, gradient = _supcon(similarity, itself, positive, has_both, temperature,
                                       sample_weight)
            value, pairwise = value + supcon, pairwise + gradient
        if margin is not None:
            if epsilon is not None:
                positive, negative = _mined(similarity, positive, negative, has_both, epsilon)
            triplet, distance, gradient = _triplet(normalised, positive, negative, margin,
                                                   sample_weight)
            # cdist's subgradient at a zero distance is 0.
            ratio = torch.where(distance == 0, 0.0, gradient / distance)
            value, pairwise = value + triplet, pairwise - ratio
            radial = (ratio.sum(dim=-1) + ratio.sum(dim=-2))[..., None]
        return value, pairwise, radial, normalised, norm

    @staticmethod
    def setup_context(ctx, inputs, output):
        _, pairwise, radial, normalised, norm = output
        ctx.mark_non_differentiable(*output[1:])
        ctx.save_for_backward(pairwise, radial, normalised, norm)

    @staticmethod
    def backward(ctx, grad_value, *_):
        pairwise, radial, normalised, norm = ctx.saved_tensors
        grad = grad_value[..., None, None]
        # similarity = n n^T and distance = cdist(n, n), differentiated in n:
        pairwise = pairwise * grad
        grad_normalised = ((pairwise + pairwise.transpose(-1, -2)) @ normalised
                           + normalised * (radial * grad))
        # through n = e / max(||e||, eps): the radial component is dropped
        # (unless the norm was clamped, where n is e / eps).
        along = (grad_normalised * normalised).sum(dim=-1, keepdim=True)
        along = torch.where(norm > 1e-12, along, 0.0)
        return (grad_normalised - normalised * along) / norm, None, None, None, None, None
