"""Macro-F1 for integer-encoded labels, with scikit-learn's arithmetic and without its checks."""

import numpy as np

__all__ = ["macro_f1"]


def macro_f1(y_true, y_pred, sample_weight=None, *, labels=None):
    """``f1_score(y_true, y_pred, average="macro", labels=labels, sample_weight=sample_weight)``.

    The same value as scikit-learn's, to the last bit: per-label (weighted)
    counts by ``bincount`` in data order, the predicted and true totals
    rebuilt from the false positives and negatives as in sklearn's confusion
    matrices, ``2 tp / (true + pred)`` with 0 for a label with neither true
    nor predicted weight (as ``zero_division=0``; sklearn's default
    ``"warn"`` also gives 0), then the mean over the labels. It skips sklearn's
    input validation, which costs milliseconds: the epoch checkpointing runs
    it after every epoch of every member, and the class-offset search many
    times per fit.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Labels encoded as non-negative integers.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        Each row counts with its weight. Weights that are all zero raise a
        ``ValueError`` (as scikit-learn's ``f1_score`` does from 1.8; 1.7
        returned 0).
    labels : array-like of non-negative int or None, default=None
        The labels averaged over. ``None``: those present in ``y_true`` or
        ``y_pred`` (whatever their weights), as ``f1_score`` without
        ``labels``. ``np.arange(n_classes)``: every class, one absent from
        both arrays scoring 0.

    Returns
    -------
    score : float
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    weight = None if sample_weight is None else np.asarray(sample_weight)
    if weight is not None and not weight.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    n = int(max(y_true.max(), y_pred.max())) + 1
    if labels is None:
        labels = np.flatnonzero(np.bincount(y_true, minlength=n) + np.bincount(y_pred, minlength=n))
    else:
        labels = np.asarray(labels)
        n = max(n, int(labels.max()) + 1)
    hit = y_true == y_pred
    tp = np.bincount(y_true[hit], weights=None if weight is None else weight[hit],
                     minlength=n)[labels]
    pred = np.bincount(y_pred, weights=weight, minlength=n)[labels]
    true = np.bincount(y_true, weights=weight, minlength=n)[labels]
    # As sklearn's confusion matrices: false positives and negatives, then the
    # sums again (with weights this can round differently from the plain sums).
    true, pred = tp + (true - tp), tp + (pred - tp)
    denominator = 1.0 * true.astype(np.float64) + pred.astype(np.float64)
    empty = denominator == 0
    f1 = (2.0 * tp.astype(np.float64)) / np.where(empty, 1.0, denominator)
    return float(np.mean(np.where(empty, 0.0, f1)))
