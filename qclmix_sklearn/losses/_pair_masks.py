"""Positive and negative pairs of a batch as boolean matrices."""

import torch


def label_pair_masks(target):
    """All pairs of ``target`` (shape ``(..., n)``), as ``(..., n, n)`` masks.

    ``positive[a, b]``: same label and ``a != b``; ``negative[a, b]``: different labels.
    """
    same = target[..., :, None] == target[..., None, :]
    n = target.shape[-1]
    itself = torch.eye(n, dtype=torch.bool, device=target.device)
    return same & ~itself, ~same


def pair_masks(target, pairs=None):
    """The (positive, negative) masks of ``pairs``.

    ``pairs`` is ``None`` (every pair, from the labels), a ``(positive,
    negative)`` pair of boolean masks (as :class:`MultiSimilarityMiner`
    returns) or a pytorch-metric-learning pair tuple ``(a1, p, a2, n)``.
    """
    if pairs is None:
        return label_pair_masks(target)
    if len(pairs) == 2:
        return pairs
    if len(pairs) != 4 or target.dim() != 1:
        raise ValueError(
            "pairs must be (positive, negative) masks or a pair miner's (a1, p, a2, n)."
        )
    a1, p, a2, n = pairs
    size = (len(target), len(target))
    positive = torch.zeros(size, dtype=torch.bool, device=target.device)
    negative = torch.zeros(size, dtype=torch.bool, device=target.device)
    positive[a1, p] = True
    negative[a2, n] = True
    return positive, negative


def any_pair(mask):
    """Whether each batch of a ``(..., n, n)`` mask holds a pair, shaped ``(..., 1, 1)``."""
    return mask.flatten(-2).any(dim=-1)[..., None, None]
