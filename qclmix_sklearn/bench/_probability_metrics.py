"""Threshold-free metrics of a job, computed from ``predict_proba`` on its test part.

Average precision and ROC-AUC are macro averages of one-vs-rest scores over the classes present in
the test part (a class absent there has no positives to rank: it is left out, never scored 0; with
fewer than two classes present both are missing). Log-loss and Brier score are over all the
model's ``classes_``. The expected calibration error (ECE) uses the top-label confidence (the
largest probability, correct when its class is the true one) in 15 equal-width bins
``[k/15, (k+1)/15)``, the last one closed at 1; the bins themselves are stored, so that a
reliability diagram can be drawn from the store without the probabilities.
"""

import warnings

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

#: Stored column -> label in the report.
PROBABILITY_METRICS = {
    "average_precision_macro": "AP (macro OvR)",
    "roc_auc_macro": "ROC-AUC (macro OvR)",
    "log_loss": "log-loss",
    "brier_score": "Brier",
    "ece": "ECE (15 bins)",
}
#: The metrics where a smaller value is better (the others: larger is better).
LOWER_IS_BETTER = frozenset({"log_loss", "brier_score", "ece"})
#: The stored column holding the calibration bins (JSON).
BINS_COLUMN = "calibration_bins"
N_BINS = 15


def calibration_bins(y_true, proba, classes, n_bins=N_BINS):
    """Per-bin count, mean top-label confidence and accuracy (None in an empty bin), as a dict."""
    y_true, proba, classes = np.asarray(y_true), np.asarray(proba), np.asarray(classes)
    confidence = proba.max(axis=1).astype(float)
    correct = (classes[proba.argmax(axis=1)] == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, confidence, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)

    def means(values):
        sums = np.bincount(index, weights=values, minlength=n_bins)
        return [float(s / c) if c else None for s, c in zip(sums, count)]

    return {"count": count.tolist(), "confidence": means(confidence), "accuracy": means(correct)}


def expected_calibration_error(bins):
    """ECE of ``bins`` (as :func:`calibration_bins` gives them): the count-weighted mean of
    |accuracy − confidence| over the bins."""
    count = np.asarray(bins["count"], dtype=float)
    if count.sum() == 0:
        return None
    pairs = zip(count, bins["accuracy"], bins["confidence"])
    gaps = [abs(a - c) if n else 0.0 for n, a, c in pairs]
    return float(np.dot(count, gaps) / count.sum())


def pool_calibration_bins(many):
    """The bins of several jobs (e.g. the folds and seeds of one model on one dataset) as one."""
    count = np.sum([b["count"] for b in many], axis=0)

    def pooled(key):
        sums = np.sum([[v * n if n else 0.0 for v, n in zip(b[key], b["count"])] for b in many], 0)
        return [float(s / n) if n else None for s, n in zip(sums, count)]

    return {
        "count": count.tolist(),
        "confidence": pooled("confidence"),
        "accuracy": pooled("accuracy"),
    }


def probability_scores(y_true, proba, classes):
    """The threshold-free metrics of ``proba`` (columns in the order of ``classes``) and the bins.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, each one of ``classes``.
    proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities, column ``k`` for ``classes[k]`` (a classifier's ``classes_``).
    classes : array-like of shape (n_classes,)

    Returns
    -------
    dict
        The :data:`PROBABILITY_METRICS` (None where undefined) and ``calibration_bins``.
    """
    y_true, classes, proba = np.asarray(y_true), np.asarray(classes), np.asarray(proba)
    if proba.dtype.kind != "f":
        proba = proba.astype(float)
    # else kept in its own precision: float32 rows sum to one only within float32's tolerance
    if proba.ndim != 2 or proba.shape != (len(y_true), len(classes)):
        raise ValueError(
            f"proba must have shape (n_samples, n_classes) = ({len(y_true)}, {len(classes)}), "
            f"got {proba.shape}"
        )
    # sklearn's log_loss and brier_score_loss take the columns in the sorted order of the labels
    order = np.argsort(classes)
    classes, proba = classes[order], proba[:, order]
    onehot = y_true[:, None] == classes[None, :]
    if not onehot.any(axis=1).all():
        unknown = sorted({str(v) for v in y_true[~onehot.any(axis=1)]})
        raise ValueError(f"y_true has labels that are not among classes: {unknown}")
    present = onehot.any(axis=0)
    ranked = int(present.sum()) >= 2
    bins = calibration_bins(y_true, proba, classes)
    return {
        "average_precision_macro": (
            float(average_precision_score(onehot[:, present], proba[:, present], average="macro"))
            if ranked else None
        ),
        "roc_auc_macro": (
            float(roc_auc_score(onehot[:, present], proba[:, present], average="macro"))
            if ranked else None
        ),
        "log_loss": float(log_loss(y_true, proba, labels=classes)),
        # binary: the customary mean squared error of the positive class's probability (sklearn's
        # scale_by_half="auto"); multi-class: the sum over classes against one-hot, in [0, 2]
        "brier_score": float(brier_score_loss(y_true, proba, labels=classes)),
        "ece": expected_calibration_error(bins),
        BINS_COLUMN: bins,
    }


def score_probabilities(estimator, X_test, y_test):
    """:func:`probability_scores` of a fitted ``estimator`` on the test part; ``{}`` when it has
    no ``predict_proba``, or (with a warning, stored with the job) when that fails."""
    try:
        predict_proba = estimator.predict_proba
    except AttributeError:  # e.g. an SVC without probability=True
        return {}
    try:
        return probability_scores(y_test, predict_proba(X_test), estimator.classes_)
    except Exception as exc:  # noqa: BLE001 - the job keeps its other metrics
        warnings.warn(
            f"no threshold-free metrics: predict_proba failed or gave unusable probabilities "
            f"({type(exc).__name__}: {exc})",
            RuntimeWarning,
        )
        return {}
