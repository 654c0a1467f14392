"""The threshold-free metrics of a job, against sklearn's and torchmetrics' own on hand cases."""

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.preprocessing import label_binarize
from sklearn.svm import SVC

from qclmix_sklearn.bench._probability_metrics import (
    calibration_bins,
    expected_calibration_error,
    pool_calibration_bins,
    probability_scores,
    score_probabilities,
)

Y = np.array([0, 1, 2, 2, 1, 0, 2, 1])
P = np.array(
    [
        [0.70, 0.20, 0.10],
        [0.30, 0.50, 0.20],
        [0.10, 0.30, 0.60],
        [0.20, 0.45, 0.35],
        [0.55, 0.40, 0.05],
        [0.50, 0.25, 0.25],
        [0.15, 0.15, 0.70],
        [0.10, 0.80, 0.10],
    ]
)


def test_multiclass_values_equal_sklearn_and_the_definitions():
    got = probability_scores(Y, P, [0, 1, 2])
    onehot = label_binarize(Y, classes=[0, 1, 2])
    assert got["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, P, multi_class="ovr"))
    assert got["average_precision_macro"] == pytest.approx(average_precision_score(onehot, P))
    assert got["log_loss"] == pytest.approx(log_loss(Y, P))
    # the multi-class Brier: mean over rows of the sum over classes against one-hot
    assert got["brier_score"] == pytest.approx(np.mean(np.sum((onehot - P) ** 2, axis=1)))
    # top-label ECE by hand: confidences 0.7 0.5 0.6 0.45 0.55 0.5 0.7 0.8 fall in the bins
    # [2/3, 11/15) (0.7, 0.7: correct, correct), [7/15, 8/15) (0.5, 0.5: correct, correct),
    # [8/15, 9/15) (0.55: wrong), [9/15, 10/15) (0.6: correct), [6/15, 7/15) (0.45: wrong),
    # [12/15, 13/15) (0.8: correct)
    gaps = [0.3, 0.3, 0.5, 0.5, 0.55, 0.4, 0.45, 0.2]
    assert got["ece"] == pytest.approx(np.mean(gaps))
    assert sum(got["calibration_bins"]["count"]) == len(Y)


def test_ece_equals_torchmetrics():
    torchmetrics = pytest.importorskip("torchmetrics")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 4)) * 2
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, 500)
    theirs = torchmetrics.classification.MulticlassCalibrationError(num_classes=4, n_bins=15)
    expected = float(theirs(torch.tensor(proba), torch.tensor(y)))
    assert probability_scores(y, proba, np.arange(4))["ece"] == pytest.approx(expected, abs=1e-6)


def test_binary_values_are_the_customary_ones():
    y = np.array([0, 0, 1, 1, 0, 1])
    p1 = np.array([0.1, 0.6, 0.8, 0.4, 0.3, 0.9])
    got = probability_scores(y, np.column_stack([1 - p1, p1]), [0, 1])
    assert got["roc_auc_macro"] == pytest.approx(roc_auc_score(y, p1))
    assert got["brier_score"] == pytest.approx(brier_score_loss(y, p1))  # in [0, 1]
    assert got["log_loss"] == pytest.approx(log_loss(y, p1))
    # macro over both classes, as macro-F1 is
    both = (average_precision_score(y, p1) + average_precision_score(1 - y, 1 - p1)) / 2
    assert got["average_precision_macro"] == pytest.approx(both)


def test_columns_follow_classes_in_any_order():
    names = np.array(["c", "a", "b"])  # column k of the probabilities is names[k]
    # sorted, the classes are a, b, c (codes 0, 1, 2): the columns 1, 2, 0; c, a, b are 2, 0, 1
    permuted = probability_scores(names[Y], P, names)
    sorted_ = probability_scores(np.array([2, 0, 1])[Y], P[:, [1, 2, 0]], [0, 1, 2])
    assert permuted.pop("calibration_bins") == sorted_.pop("calibration_bins")
    assert permuted == pytest.approx(sorted_)


def test_a_class_missing_from_the_test_part():
    keep = Y != 2
    got = probability_scores(Y[keep], P[keep], [0, 1, 2])
    onehot = label_binarize(Y[keep], classes=[0, 1, 2])[:, :2]
    # ranked over the classes present only; log-loss and Brier over all classes
    assert got["roc_auc_macro"] == pytest.approx(roc_auc_score(onehot, P[keep, :2]))
    assert got["average_precision_macro"] == pytest.approx(
        average_precision_score(onehot, P[keep, :2])
    )
    assert got["log_loss"] == pytest.approx(log_loss(Y[keep], P[keep], labels=[0, 1, 2]))
    one = probability_scores(Y[Y == 1], P[Y == 1], [0, 1, 2])
    assert one["roc_auc_macro"] is None and one["average_precision_macro"] is None
    assert one["log_loss"] > 0 and one["ece"] is not None


@pytest.mark.parametrize(
    "y, proba, message",
    [(Y, P[:, :2], r"shape \(n_samples, n_classes\)"), (Y + 5, P, "not among classes")],
)
def test_bad_input_is_named(y, proba, message):
    with pytest.raises(ValueError, match=message):
        probability_scores(y, proba, [0, 1, 2])


def test_pooled_bins_are_the_bins_of_all_rows():
    whole = calibration_bins(Y, P, [0, 1, 2])
    pooled = pool_calibration_bins(
        [calibration_bins(Y[:3], P[:3], [0, 1, 2]), calibration_bins(Y[3:], P[3:], [0, 1, 2])]
    )
    assert pooled["count"] == whole["count"]
    for key in ("confidence", "accuracy"):
        assert [v is None for v in pooled[key]] == [v is None for v in whole[key]]
        assert [v for v in pooled[key] if v is not None] == pytest.approx(
            [v for v in whole[key] if v is not None]
        )
    assert expected_calibration_error(pooled) == pytest.approx(expected_calibration_error(whole))


class BrokenProba(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), np.nan)


def test_no_or_failing_predict_proba_gives_no_metrics():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    assert score_probabilities(SVC().fit(X, y), X, y) == {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert score_probabilities(BrokenProba().fit(X, y), X, y) == {}
    assert any("no threshold-free metrics" in str(w.message) for w in caught)
