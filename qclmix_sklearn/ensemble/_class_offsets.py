"""Per-class offsets on log-probabilities that maximise macro-F1 on held-out predictions."""

import numpy as np

from .._estimator._validation_split import stratified_folds
from .._metrics import macro_f1

#: Largest offset magnitude (log-probability units): a class's score may be
#: raised or lowered by up to a factor e**3 ~ 20 in probability.
MAX_OFFSET = 3.0
# Log-probability differences below this are rounding noise, not a decision.
_TIE = 1e-9


def _prefixed_cumsum(mask):
    return np.concatenate([[0], np.cumsum(mask)])


def _candidate_offsets(log_proba, y, offsets, c, sample_weight=None):
    """Every distinct decision for class ``c``'s offset, the others fixed.

    Raising class ``c``'s offset past a row's margin (the best other score
    minus its own) moves that row to ``c``; between two consecutive margins
    nothing changes. Returns one offset inside each such interval (the
    midpoint; just past the ends for "no row" and "every row") and the
    macro-F1 it gives, computed for all intervals at once from cumulative
    counts: exact, whatever the scale or packing of the scores.
    """
    n_samples, n_classes = log_proba.shape
    rest = np.delete(log_proba + offsets, c, axis=1)
    other_label = np.delete(np.arange(n_classes), c)[rest.argmax(axis=1)]
    margin = rest.max(axis=1) - log_proba[:, c]
    order = np.argsort(margin, kind="stable")
    margin, y_sorted, other_sorted = margin[order], y[order], other_label[order]
    w = np.ones(n_samples) if sample_weight is None else sample_weight[order]

    # (Weighted) counts after the t rows with the smallest margins (t = 0 .. n) moved to c.
    support = np.bincount(y, weights=sample_weight, minlength=n_classes)
    f1_sum = np.zeros(n_samples + 1)
    for k in range(n_classes):
        if k == c:
            true_pos = _prefixed_cumsum((y_sorted == c) * w)
            predicted = _prefixed_cumsum(w)
        else:
            lost = (other_sorted == k) * w
            lost_hit = lost * (y_sorted == k)
            predicted = lost.sum() - _prefixed_cumsum(lost)
            true_pos = lost_hit.sum() - _prefixed_cumsum(lost_hit)
        denominator = support[k] + predicted
        f1_sum += np.divide(
            2 * true_pos, denominator, out=np.zeros(n_samples + 1), where=denominator > 0
        )

    # Only a t between two distinct margins is a reachable decision; margins
    # closer than _TIE are one (their midpoint would be a rounding-error tie).
    values = np.concatenate([[margin[0] - 1e-6], (margin[:-1] + margin[1:]) / 2,
                             [margin[-1] + 1e-6]])
    reachable = np.concatenate([[True], np.diff(margin) > _TIE, [True]])
    return values[reachable], f1_sum[reachable] / n_classes


def tune_class_offsets(log_proba, y, *, max_offset=MAX_OFFSET, n_rounds=2, sample_weight=None):
    """Offsets ``b`` so that ``argmax(log_proba + b)`` has the best macro-F1 on ``y``.

    Coordinate ascent: each round visits every class and sets its offset to
    the value with the best macro-F1, the others fixed. The search is exact
    (every distinct decision is scored, see ``_candidate_offsets``), so
    scores packed in a narrow range are tuned as well as spread ones. A
    change is only kept when it strictly improves the score, so without
    evidence the offsets stay 0 (plain argmax); ties go to the offset closest
    to 0. For two classes this is the tuning of the decision threshold.

    Parameters
    ----------
    log_proba : ndarray of shape (n_samples, n_classes)
        Held-out log-probabilities (validation or out-of-fold predictions).
    y : ndarray of shape (n_samples,)
        Their labels, encoded ``0 .. n_classes - 1``.
    max_offset : float, default=MAX_OFFSET
        Largest offset magnitude considered.
    n_rounds : int, default=2
        Passes over the classes.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Row weights of the macro-F1 (the fit's sample weights).

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
    """
    n_classes = log_proba.shape[1]
    labels = np.arange(n_classes)  # a class never predicted nor seen counts as 0
    offsets = np.zeros(n_classes)
    best = macro_f1(y, log_proba.argmax(axis=1), sample_weight, labels=labels)
    for _ in range(n_rounds):
        changed = False
        for c in range(n_classes):
            values, scores = _candidate_offsets(log_proba, y, offsets, c, sample_weight)
            allowed = np.abs(values) <= max_offset
            values, scores = values[allowed], scores[allowed]
            for i in np.lexsort((np.abs(values), -scores))[:1]:
                trial = offsets.copy()
                trial[c] = values[i]
                # Scored again as predict decides (argmax, first of equal scores).
                score = macro_f1(y, (log_proba + trial).argmax(axis=1), sample_weight,
                                 labels=labels)
                if score > best + 1e-12:
                    best, offsets, changed = score, trial, True
        if not changed:
            break
    return offsets


def offsets_that_generalise(log_proba, y, *, sample_weight=None, n_splits=5, random_state=0):
    """:func:`tune_class_offsets` on all rows, kept only when offsets win in a cross-validation.

    Offsets tuned on few minority rows can fit their noise: the rows are
    split into stratified folds, offsets are tuned on all folds but one and
    applied to that one, and the pooled held-out macro-F1 is compared with
    that of plain argmax on the same rows. Only when the tuned offsets score
    strictly higher are they tuned again on all rows and returned; else the
    offsets are 0 (argmax).

    Parameters
    ----------
    log_proba, y, sample_weight
        As for :func:`tune_class_offsets`.
    n_splits : int, default=5
        Folds (fewer when the largest class has fewer rows; no test with
        fewer than 2).
    random_state : int, default=0
        Seed of the folds.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
    """
    n_classes = log_proba.shape[1]
    zeros = np.zeros(n_classes)
    n_splits = min(n_splits, int(np.bincount(y).max()))
    if n_splits < 2:
        return zeros
    tuned = log_proba.argmax(axis=1)
    for fit, held_out in stratified_folds(y, n_splits, random_state):
        weight = None if sample_weight is None else sample_weight[fit]
        offsets = tune_class_offsets(log_proba[fit], y[fit], sample_weight=weight)
        tuned[held_out] = (log_proba[held_out] + offsets).argmax(axis=1)
    labels = np.arange(n_classes)
    plain = macro_f1(y, log_proba.argmax(axis=1), sample_weight, labels=labels)
    if macro_f1(y, tuned, sample_weight, labels=labels) <= plain:
        return zeros
    return tune_class_offsets(log_proba, y, sample_weight=sample_weight)
