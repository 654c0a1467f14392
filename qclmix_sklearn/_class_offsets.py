"""Per-class offsets on log-probabilities that maximise macro-F1 on held-out predictions."""

import numpy as np

#: Candidate offsets (log-probability units): a class's score may be raised or
#: lowered by up to a factor e**3 ~ 20 in probability.
OFFSET_GRID = np.round(np.linspace(-3.0, 3.0, 61), 6)


def macro_f1(y_true, y_pred, n_classes):
    """sklearn's ``f1_score(average='macro')`` over the classes ``0 .. n_classes - 1``.

    A class with neither true nor predicted samples scores 0, as with
    ``zero_division=0`` and ``labels=range(n_classes)``. Written with
    ``bincount`` because the offset search evaluates it thousands of times.
    """
    true_pos = np.bincount(y_true[y_true == y_pred], minlength=n_classes)
    support = np.bincount(y_true, minlength=n_classes)
    predicted = np.bincount(y_pred, minlength=n_classes)
    denominator = support + predicted
    f1 = np.divide(2 * true_pos, denominator, out=np.zeros(n_classes), where=denominator > 0)
    return float(f1.mean())


def tune_class_offsets(log_proba, y, *, grid=OFFSET_GRID, n_rounds=2):
    """Offsets ``b`` so that ``argmax(log_proba + b)`` has the best macro-F1 on ``y``.

    Coordinate ascent: each round visits every class and sets its offset to
    the grid value with the best macro-F1, the others fixed; a change is only
    kept when it strictly improves the score, so without evidence the offsets
    stay 0 (plain argmax). Ties between grid values go to the value closest to
    0. For two classes this is the tuning of the decision threshold.

    Parameters
    ----------
    log_proba : ndarray of shape (n_samples, n_classes)
        Held-out log-probabilities (validation or out-of-fold predictions).
    y : ndarray of shape (n_samples,)
        Their labels, encoded ``0 .. n_classes - 1``.
    grid : ndarray, default=OFFSET_GRID
        Candidate offsets of one class.
    n_rounds : int, default=2
        Passes over the classes.

    Returns
    -------
    offsets : ndarray of shape (n_classes,)
    """
    n_classes = log_proba.shape[1]
    offsets = np.zeros(n_classes)
    best = macro_f1(y, log_proba.argmax(axis=1), n_classes)
    by_closeness = grid[np.argsort(np.abs(grid), kind="stable")]
    for _ in range(n_rounds):
        changed = False
        for c in range(n_classes):
            rest = np.delete(log_proba + offsets, c, axis=1)
            others = rest.max(axis=1)
            other_label = np.delete(np.arange(n_classes), c)[rest.argmax(axis=1)]
            for value in by_closeness:
                # Class c wins a row when its score beats every other class's
                # (argmax keeps the first of equal scores).
                raised = log_proba[:, c] + value
                wins = raised > others if c > 0 else raised >= others
                if c > 0:
                    wins |= (raised == others) & (other_label > c)
                pred = np.where(wins, c, other_label)
                score = macro_f1(y, pred, n_classes)
                if score > best + 1e-12:
                    best, offsets[c], changed = score, value, True
        if not changed:
            break
    return offsets
