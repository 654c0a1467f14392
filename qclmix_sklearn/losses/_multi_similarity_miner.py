"""The hard pairs of the multi-similarity miner, as boolean masks."""

import torch
from torch import nn
from torch.nn import functional as F

from ._pair_masks import any_pair, label_pair_masks


class MultiSimilarityMiner(nn.Module):
    """pytorch-metric-learning's ``MultiSimilarityMiner``, returning masks.

    With ``s`` the cosine similarity of the embeddings, it keeps the positive
    pairs ``(a, p)`` with ``s(a, p) - epsilon < max_n s(a, n)`` and the negative
    pairs ``(a, n)`` with ``s(a, n) + epsilon > min_p s(a, p)``, as pml does
    (and nothing when the batch has no positive or no negative pair). pml
    sorts each row and returns index tuples that the losses turn back into
    matrices; the same comparisons on the matrix itself give the masks
    directly (tested against pml).

    Called on ``(n, dim)`` embeddings and ``(n,)`` labels it returns two
    ``(n, n)`` masks; on ``(groups, n, dim)`` and ``(groups, n)``, each group
    is mined on its own and the masks are ``(groups, n, n)``.

    Parameters
    ----------
    epsilon : float, default=0.1
        The miner's slack (pml's default).
    """

    def __init__(self, epsilon=0.1):
        super().__init__()
        self.epsilon = epsilon

    @torch.no_grad()
    def forward(self, embedding, target):
        normalised = F.normalize(embedding, p=2, dim=-1)
        similarity = normalised @ normalised.transpose(-1, -2)
        positive, negative = label_pair_masks(target)
        lowest, highest = torch.finfo(similarity.dtype).min, torch.finfo(similarity.dtype).max
        hardest_negative = similarity.masked_fill(~negative, lowest).amax(dim=-1, keepdim=True)
        hardest_positive = similarity.masked_fill(~positive, highest).amin(dim=-1, keepdim=True)
        hard_positive = positive & (similarity - self.epsilon < hardest_negative)
        hard_negative = negative & (similarity + self.epsilon > hardest_positive)
        # pml mines nothing unless the batch has both kinds of pair.
        has_both = any_pair(positive) & any_pair(negative)
        return hard_positive & has_both, hard_negative & has_both
