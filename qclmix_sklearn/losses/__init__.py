"""Losses of QCL-MixNet."""

from ._focal_variance_loss import FocalVarianceLoss
from ._hybrid_loss import HybridLoss

__all__ = ["FocalVarianceLoss", "HybridLoss"]
