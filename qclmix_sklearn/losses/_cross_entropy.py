"""Cross-entropy with optional per-row sample weights (the torch baselines' loss)."""

from torch import nn
from torch.nn import functional as F

from ._weighting import weighted_mean


class WeightedCrossEntropyLoss(nn.Module):
    """``F.cross_entropy``, or its weighted mean over rows given ``sample_weight``."""

    def forward(self, logits, target, sample_weight=None):
        if sample_weight is None:
            return F.cross_entropy(logits, target)
        losses = F.cross_entropy(logits, target, reduction="none")
        return weighted_mean(losses, sample_weight.to(losses.dtype))
