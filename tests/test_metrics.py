"""macro_f1: scikit-learn's macro-averaged F1, to the bit, without its input validation."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score

from qclmix_sklearn._metrics import macro_f1


def cases(seed, n_cases=300):
    """Random labels and weights: labels never predicted or never true, zero weights."""
    rng = np.random.default_rng(seed)
    for case in range(n_cases):
        n, n_classes = int(rng.integers(1, 50)), int(rng.integers(2, 6))
        y_true, y_pred = rng.integers(0, n_classes, n), rng.integers(0, n_classes, n)
        if case % 5 == 0:
            y_pred[:] = y_true[0]  # labels never predicted
        if case % 7 == 0:
            y_true[y_true == n_classes - 1] = 0  # the last class never true
        weight = None if case % 2 else rng.random(n) * (rng.random(n) < 0.7)
        yield y_true, y_pred, weight, n_classes


def sklearn_f1(y_true, y_pred, weight, labels=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about labels without rows
        return f1_score(y_true, y_pred, average="macro", labels=labels, sample_weight=weight,
                        zero_division=0)


def test_over_the_labels_present_it_is_sklearns_to_the_bit():
    for y_true, y_pred, weight, _ in cases(0):
        if weight is None or weight.any():
            assert macro_f1(y_true, y_pred, weight) == sklearn_f1(y_true, y_pred, weight)


def test_over_every_class_it_is_sklearns_with_labels_to_the_bit():
    # Classes absent from both arrays score 0 and count in the mean.
    for y_true, y_pred, weight, n_classes in cases(1):
        if weight is None or weight.any():
            for labels in (np.arange(n_classes), np.arange(n_classes + 2)):
                expected = sklearn_f1(y_true, y_pred, weight, labels)
                assert macro_f1(y_true, y_pred, weight, labels=labels) == expected


def test_absent_classes_lower_the_mean_only_with_labels():
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0, 0, 1, 0])
    present = macro_f1(y_true, y_pred)
    assert present == pytest.approx((0.8 + 2 / 3) / 2)
    assert macro_f1(y_true, y_pred, labels=np.arange(4)) == pytest.approx(present / 2)


def test_a_zero_weight_row_counts_as_absent_but_its_label_as_present():
    y_true, y_pred = np.array([0, 0, 1, 2]), np.array([0, 0, 1, 1])
    weight = np.array([1.0, 1.0, 1.0, 0.0])
    # label 2 has no weight anywhere, yet sklearn averages over it (F1 = 0)
    assert macro_f1(y_true, y_pred, weight) == sklearn_f1(y_true, y_pred, weight) == 2 / 3
    assert macro_f1(y_true, y_pred, weight, labels=[0, 1]) == 1.0


def test_weights_that_are_all_zero_are_refused():
    # As f1_score does from scikit-learn 1.8 (the lowest supported, 1.7, returns 0).
    y = np.array([0, 1, 1])
    for labels in (None, np.arange(2)):
        with pytest.raises(ValueError, match="non-zero"):
            macro_f1(y, y, np.zeros(3), labels=labels)
