"""QCL-MixNet for class-imbalanced tabular data, scikit-learn native."""

from ._classifier import PAPER_PARAMS, QCLMixClassifier
from ._persist import skops_trusted_types

__version__ = "0.1.0"

__all__ = ["PAPER_PARAMS", "QCLMixClassifier", "__version__", "skops_trusted_types"]
