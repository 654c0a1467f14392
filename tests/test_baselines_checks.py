"""scikit-learn's estimator checks on the estimator classes behind the baselines.

The 12 torch baselines are configured instances of 5 classes; each class is
checked once, with tiny but still learning settings. ML baselines are
scikit-learn / imbalanced-learn estimators already checked upstream, except
the XGBoost wrapper, checked here.
"""

import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks
from xgboost import XGBClassifier

from qclmix_sklearn.baselines import (
    CNN1DClassifier,
    GNNClassifier,
    LabelEncodedClassifier,
    ResNetClassifier,
    RNNClassifier,
    TorchMLPClassifier,
)

TINY = dict(max_epochs=5, batch_size=32, random_state=0)
# Full-batch GNN epochs are single steps: they need more of them to learn.
TINY_GNN = dict(hidden_layer_size=16, max_epochs=30, random_state=0)

ESTIMATORS = [
    TorchMLPClassifier((16,), **TINY),
    ResNetClassifier(16, n_blocks=1, **TINY),
    RNNClassifier("lstm", hidden_layer_size=8, bidirectional=True, **TINY),
    CNN1DClassifier((4, 8), **TINY),
    GNNClassifier("gcn", **TINY_GNN),
    GNNClassifier("gin", **TINY_GNN),
    LabelEncodedClassifier(XGBClassifier(n_estimators=10, n_jobs=1, random_state=0)),
]


# As scikit-learn lists for its own stochastic estimators (SGDClassifier, ...).
STOCHASTIC_TRAINING_FAILS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "stochastic training: a row of weight 2 counts twice in the loss but is not two "
        "rows (in the validation split, the mini-batches, BatchNorm statistics or the "
        "kNN graph), so the fits agree only in distribution"
    ),
}


def expected_failed_checks(estimator):
    """Check name -> reason, for the checks that cannot pass by design."""
    if isinstance(estimator, GNNClassifier) and estimator.conv == "gcn":
        return {
            "check_class_weight_classifiers": (
                "the epoch is chosen by validation macro-F1, which keeps an early, "
                "balanced epoch over the later ones the check's extreme weights "
                "(1000 vs 1e-4) push to one class; it passes with "
                "validation_fraction=None, and GIN passes as is"
            ),
            **STOCHASTIC_TRAINING_FAILS,
        }
    if isinstance(estimator, (TorchMLPClassifier, ResNetClassifier, CNN1DClassifier)):
        return {
            "check_class_weight_classifiers": (
                "the check's 5 epochs are 10 optimiser steps on unscaled blobs (std 20): too "
                "few to follow its extreme class weights (1000 vs 1e-4), and the validation "
                "macro-F1 keeps the earliest of tied epochs; with 30 epochs and "
                "validation_fraction=None these networks predict the weighted class for all "
                "test rows (tests/test_sample_weight.py checks class weights on them)"
            ),
            **STOCHASTIC_TRAINING_FAILS,
        }
    if not isinstance(estimator, LabelEncodedClassifier):
        return dict(STOCHASTIC_TRAINING_FAILS)
    if isinstance(estimator, LabelEncodedClassifier):
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "XGBoost's histogram bins are weighted quantiles, so a weight of 2 "
                "is not exactly a repeated row (an upstream property, not the wrapper's)"
            )
        }
    return {}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_baseline(estimator, check):
    check(estimator)
