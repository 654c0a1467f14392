"""Losses of QCL-MixNet."""

from ._cross_entropy import WeightedCrossEntropyLoss
from ._focal_variance_loss import FocalVarianceLoss
from ._hybrid_loss import HybridLoss
from ._supcon_triplet_loss import SupConTripletLoss

__all__ = [
    "FocalVarianceLoss",
    "HybridLoss",
    "SupConTripletLoss",
    "WeightedCrossEntropyLoss",
]
