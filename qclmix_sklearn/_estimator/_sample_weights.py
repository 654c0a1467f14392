"""The per-row training weights: ``sample_weight`` times ``class_weight``."""

import numpy as np
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

__all__ = ["training_weights"]


def training_weights(sample_weight, class_weight, X, y, classes):
    """Validated weights of the training rows, or None when every row counts the same.

    ``sample_weight`` (non-negative, not all zero) times the weight of each
    row's class (``class_weight``: None, 'balanced' or a dict label ->
    weight, as scikit-learn's classifiers define it). Weights that are all
    equal are returned as None: a weighted mean with equal weights is the
    plain mean, so such a fit is the unweighted one exactly.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,) or None
    class_weight : dict, 'balanced' or None
    X : ndarray of shape (n_samples, n_features)
        The validated training data (for the length check).
    y : ndarray of shape (n_samples,)
        Encoded labels ``0 .. n_classes - 1``.
    classes : ndarray of shape (n_classes,)
        The original labels (``classes_``), which ``class_weight`` is keyed by.
    """
    if sample_weight is None and class_weight is None:
        return None
    weight = np.ones(len(y))
    if sample_weight is not None:
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                      ensure_non_negative=True)
    if isinstance(class_weight, dict):
        _check_class_weight(class_weight)
    if class_weight is not None:
        weight = weight * compute_sample_weight(class_weight, classes[y])
    weighted = np.unique(y[weight > 0])
    if len(weighted) == 0:  # scikit-learn < 1.7 lets all-zero sample weights through
        raise ValueError(
            "sample_weight and class_weight give every row weight 0; they must hold at "
            "least one non-zero number (on rows of 2 classes or more)."
        )
    if len(weighted) < 2:
        raise ValueError(
            "sample_weight and class_weight leave positive weight on a single class "
            f"({classes[weighted].tolist()}); training needs at least 2 classes."
        )
    return None if np.all(weight == weight[0]) else weight


def _check_class_weight(class_weight):
    """Refuse a negative, infinite or non-numeric class weight, as a negative sample_weight is."""
    bad = {}
    for label, value in class_weight.items():
        try:
            if not (np.isfinite(float(value)) and float(value) >= 0):
                bad[label] = value
        except (TypeError, ValueError):
            raise TypeError(
                f"class_weight must map labels to numbers; got {value!r} for label {label!r}"
            ) from None
    if bad:
        raise ValueError(
            f"class_weight must be finite and non-negative, as sample_weight must; got {bad}"
        )
