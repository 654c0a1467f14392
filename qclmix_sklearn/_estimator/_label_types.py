"""Class labels as the estimators take them: of one kind, at least 2 classes, encoded 0..n-1."""

from numbers import Number

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["check_label_types", "encode_class_labels"]


def _kind(label):
    if isinstance(label, str):
        return "str"
    if isinstance(label, Number):
        return "number"
    return type(label).__name__


def check_label_types(y):
    """Raise a TypeError naming y when its labels mix kinds (numbers, strings, ...).

    Sorting the classes of such a y fails inside numpy with a bare
    ``'<' not supported between instances of 'int' and 'str'``. Only object
    arrays can mix kinds; others pass at no cost.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Validated labels.
    """
    y = np.asarray(y)
    if y.dtype != object:
        return
    kinds = {_kind(label) for label in y.ravel()}
    if len(kinds) > 1:
        raise TypeError(
            f"y mixes labels of different types ({', '.join(sorted(kinds))}); "
            "use labels of one type, e.g. all strings (y.astype(str)) or all numbers."
        )


def encode_class_labels(estimator, y):
    """Set ``estimator.classes_`` (the sorted labels of y); return y as ``0 .. n_classes-1``.

    Raises a ValueError naming the estimator's class when ``y`` holds a single
    class: there is nothing to tell apart.

    Parameters
    ----------
    estimator : estimator object
        The estimator being fitted; it gets ``classes_``.
    y : ndarray of shape (n_samples,)
        Validated labels, of any type.

    Returns
    -------
    y_encoded : ndarray of shape (n_samples,)
        The index of each label in ``classes_``.
    """
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    estimator.classes_ = encoder.classes_
    if len(estimator.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; "
            f"got 1 class ({estimator.classes_[0]!r})."
        )
    return encoder.transform(y)
