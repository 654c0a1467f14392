"""The paper's 20 comparison models as scikit-learn estimators with grids.

:func:`get_baseline` returns an unfitted estimator and its parameter grid,
:func:`list_baselines` the names grouped as ML, DL and GNN. The GNN models
need the ``gnn`` extra (torch-geometric).
"""

from ._deep import CNN1DClassifier, ResNetClassifier, RNNClassifier, TorchMLPClassifier
from ._gnn import GNNClassifier
from ._label_encoded import LabelEncodedClassifier
from ._registry import get_baseline, list_baselines
from ._smote import SafeSMOTE

__all__ = [
    "CNN1DClassifier",
    "GNNClassifier",
    "LabelEncodedClassifier",
    "RNNClassifier",
    "ResNetClassifier",
    "SafeSMOTE",
    "TorchMLPClassifier",
    "get_baseline",
    "list_baselines",
]
