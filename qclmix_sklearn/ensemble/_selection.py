"""Greedy ensemble selection with replacement on out-of-fold predictions (Caruana et al., 2004)."""

import numpy as np

from .._metrics import macro_f1

__all__ = ["ensemble_selection"]


def ensemble_selection(oof_proba, y, n_rounds, sample_weight=None):
    """Weights of the candidates whose averaged probabilities have the best macro-F1.

    Each round adds one candidate, with replacement, to the ensemble: the one
    whose addition gives the running average the best macro-F1 (argmax of the
    averaged probabilities, every class counted) on the out-of-fold rows;
    among equal macro-F1 the lowest log-loss, then the earlier candidate. A
    candidate's weight is the share of rounds that added it. This is how
    AutoGluon and TabArena combine their models (Caruana, Niculescu-Mizil,
    Crew and Ksikes, "Ensemble selection from libraries of models", ICML
    2004); adding with replacement lets a round weigh a candidate up instead
    of diluting the ensemble with a worse one.

    Parameters
    ----------
    oof_proba : ndarray of shape (n_candidates, n_samples, n_classes)
        Each candidate's out-of-fold class probabilities.
    y : ndarray of shape (n_samples,)
        Labels encoded ``0 .. n_classes - 1``.
    n_rounds : int
        Candidates added (the weights are multiples of ``1 / n_rounds``).
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Row weights of the macro-F1.

    Returns
    -------
    weights : ndarray of shape (n_candidates,)
        Non-negative, summing to 1.
    """
    n_candidates, _, n_classes = oof_proba.shape
    labels = np.arange(n_classes)
    counts = np.zeros(n_candidates, dtype=int)
    total = np.zeros(oof_proba.shape[1:])
    rows = np.arange(len(y))
    for n in range(1, n_rounds + 1):
        # argmax of the sum is argmax of the average: no division needed.
        f1 = [macro_f1(y, (total + proba).argmax(axis=1), sample_weight, labels=labels)
              for proba in oof_proba]
        # Macro-F1 moves in steps, so ties are common: the log-loss of the
        # average breaks them (and the first candidate any that remain).
        log_loss = [np.average(-np.log(np.maximum((total + proba)[rows, y] / n, 1e-15)),
                               weights=sample_weight)
                    for proba in oof_proba]
        best = int(np.lexsort((np.arange(n_candidates), log_loss, -np.asarray(f1)))[0])
        counts[best] += 1
        total += oof_proba[best]
    return counts / n_rounds
