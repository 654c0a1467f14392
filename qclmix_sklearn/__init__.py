"""QCL-MixNet for class-imbalanced tabular data, scikit-learn native."""

from ._classifier import PAPER_PARAMS, QCLMixClassifier
from ._persist import skops_trusted_types
from .export._onnx import onnx_inputs, register_onnx_converter, to_onnx

__version__ = "0.1.0"

__all__ = [
    "PAPER_PARAMS",
    "QCLMixClassifier",
    "__version__",
    "onnx_inputs",
    "register_onnx_converter",
    "skops_trusted_types",
    "to_onnx",
]
