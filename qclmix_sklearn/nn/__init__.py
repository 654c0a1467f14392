"""PyTorch building blocks of QCL-MixNet.

Each layer owns its forms in its own file: ``forward``; ``forward_members``,
the same for k stacked ensemble members (:mod:`._members`); and, where
eval-mode folding pays, its affine map or fold with a bound on the values it
computes (``affine_map``/``fold``, ``bound_step``; :mod:`._bounds`).
"""

from ._batch_norm import BatchNorm1d
from ._feature_attention import FeatureSelfAttention
from ._feature_mask import FeatureMask
from ._linear import Linear
from ._periodic_embedding import PeriodicEmbedding
from ._qclmix_net import QCLMixNet
from ._quantum_entanglement import QuantumEntanglement

__all__ = ["BatchNorm1d", "FeatureMask", "FeatureSelfAttention", "Linear", "PeriodicEmbedding",
           "QCLMixNet", "QuantumEntanglement"]
