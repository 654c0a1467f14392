"""Small skorch callbacks and scorers shared by every torch estimator."""

import math

import numpy as np
from skorch.callbacks import Callback


def macro_f1(y_true, y_pred, sample_weight=None):
    """``f1_score(y_true, y_pred, average="macro", sample_weight=...)`` for labels 0..C-1.

    scikit-learn's own arithmetic (per-label weighted counts by ``bincount``
    in data order, ``2 tp / (true + pred)`` with 0 for an empty label, the
    mean over the labels present in either array), without its input
    validation, which costs milliseconds: this runs after every epoch of
    every ensemble member.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    n = int(max(y_true.max(), y_pred.max())) + 1
    present = (np.bincount(y_true, minlength=n) + np.bincount(y_pred, minlength=n)) > 0
    hit = y_true == y_pred
    weight = None if sample_weight is None else np.asarray(sample_weight)
    if weight is not None and not weight.any():  # as f1_score refuses them
        raise ValueError("Sample weights must contain at least one non-zero number.")
    tp = np.bincount(y_true[hit], weights=None if weight is None else weight[hit],
                     minlength=n)[present]
    pred = np.bincount(y_pred, weights=weight, minlength=n)[present]
    true = np.bincount(y_true, weights=weight, minlength=n)[present]
    # As sklearn's confusion matrices: false positives and negatives, then the sums again.
    true, pred = tp + (true - tp), tp + (pred - tp)
    denominator = 1.0 * true.astype(np.float64) + pred.astype(np.float64)
    empty = denominator == 0
    f1 = (2.0 * tp.astype(np.float64)) / np.where(empty, 1.0, denominator)
    return float(np.mean(np.where(empty, 0.0, f1)))


def macro_f1_scorer(net, X, y):
    """Macro-F1 of a skorch net whose first output are the class logits."""
    proba = net.predict_proba(X)
    return macro_f1(y, proba.argmax(axis=1))


def weighted_macro_f1_scorer(sample_weight):
    """A scorer like :func:`macro_f1_scorer`, each row counted with its ``sample_weight``.

    The weights are those of the validation rows, in the validation set's
    order (validation batches are never shuffled). ``None`` gives
    :func:`macro_f1_scorer` itself.
    """
    if sample_weight is None:
        return macro_f1_scorer
    sample_weight = np.asarray(sample_weight)

    def scorer(net, X, y):
        proba = net.predict_proba(X)
        return macro_f1(y, proba.argmax(axis=1), sample_weight)

    return scorer


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error as soon as a batch loss is NaN or inf.

    Without it a diverged run would silently keep training on NaN weights and
    predict a single class.
    """

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        # skorch has already copied the loss to the host for its history:
        # reading it there costs no extra device synchronisation.
        value = net.history[-1, "batches", -1, "train_loss"]
        if not math.isfinite(value):
            epoch = len(net.history)
            raise FloatingPointError(
                f"The training loss became non-finite ({value}) in epoch {epoch}; "
                "lower the learning rate (lr, max_lr) or check the input scale."
            )
