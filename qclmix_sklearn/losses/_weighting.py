"""Per-row sample weights inside the losses."""

import torch


def weighted_mean(values, weight, dim=-1):
    """``sum(w * v) / sum(w)`` along ``dim``; 0 where the weights sum to 0."""
    total = weight.sum(dim=dim)
    mean = (values * weight).sum(dim=dim) / total.clamp_min(torch.finfo(total.dtype).tiny)
    return torch.where(total > 0, mean, 0.0)
