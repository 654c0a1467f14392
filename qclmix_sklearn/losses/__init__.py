"""Losses of QCL-MixNet."""

from ._focal_variance_loss import FocalVarianceLoss
from ._hybrid_loss import HybridLoss
from ._triplet_margin_loss import TripletMarginLoss

__all__ = ["FocalVarianceLoss", "HybridLoss", "TripletMarginLoss"]
