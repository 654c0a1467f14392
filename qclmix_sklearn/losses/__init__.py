"""Losses of QCL-MixNet."""

from ._cross_entropy import WeightedCrossEntropyLoss
from ._focal_variance_loss import FocalVarianceLoss
from ._hybrid_loss import HybridLoss
from ._multi_similarity_miner import MultiSimilarityMiner
from ._supcon_loss import SupConLoss
from ._triplet_margin_loss import TripletMarginLoss

__all__ = [
    "FocalVarianceLoss",
    "HybridLoss",
    "MultiSimilarityMiner",
    "SupConLoss",
    "TripletMarginLoss",
    "WeightedCrossEntropyLoss",
]
