"""PyTorch building blocks of QCL-MixNet."""

from ._feature_attention import FeatureSelfAttention
from ._periodic_embedding import PeriodicEmbedding
from ._qclmix_net import QCLMixNet
from ._quantum_entanglement import QuantumEntanglement

__all__ = ["FeatureSelfAttention", "PeriodicEmbedding", "QCLMixNet", "QuantumEntanglement"]
