"""QCL-MixNet for class-imbalanced tabular data, scikit-learn native."""

from ._classifier import QCLMixClassifier

__version__ = "0.1.0"

__all__ = ["QCLMixClassifier", "__version__"]
