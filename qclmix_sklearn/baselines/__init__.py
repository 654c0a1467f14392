"""The paper's 20 comparison models and the modern peers as scikit-learn estimators with grids.

:func:`get_baseline` returns an unfitted estimator and its parameter grid,
:func:`list_baselines` the paper's 20 grouped as ML, DL and GNN, and
:func:`list_peers` the modern peers (CatBoost, LightGBM, RealMLP, TabM and
their ``*_tuned`` variants). The GNN models need the ``gnn`` extra
(torch-geometric), the peers the ``peers`` extra.
"""

from ._argmax_proba import ArgmaxProbaClassifier
from ._deep import CNN1DClassifier, ResNetClassifier, RNNClassifier, TorchMLPClassifier
from ._gnn import GNNClassifier
from ._label_encoded import LabelEncodedClassifier
from ._registry import get_baseline, list_baselines, list_peers
from ._smote import SafeSMOTE
from ._tuned_offsets import TunedOffsetsClassifier

__all__ = [
    "ArgmaxProbaClassifier",
    "CNN1DClassifier",
    "GNNClassifier",
    "LabelEncodedClassifier",
    "RNNClassifier",
    "ResNetClassifier",
    "SafeSMOTE",
    "TorchMLPClassifier",
    "TunedOffsetsClassifier",
    "get_baseline",
    "list_baselines",
    "list_peers",
]
