"""Feature selection against shadow features: the columns that beat shuffled copies of themselves.

Boruta's idea (Kursa & Rudnicki, J. Stat. Softw. 2010): a column carries
signal when a tree ensemble finds it more important than *shadows*, copies
of the columns whose rows are shuffled one column at a time (same values,
no relation to the labels). A fixed number of rounds with a majority vote
stands in for Boruta's iterated tests, so the cost is known in advance.
QCLMixClassifier's ``feature_selection='shadow'`` runs it on each member's
own training rows (see :class:`~qclmix_sklearn.nn.FeatureMask`).
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier

__all__ = ["shadow_feature_mask", "shadow_votes"]

#: Rounds, each with fresh shadows and a fresh forest; a column is kept when it
#: beats the shadows in a majority of them.
N_ROUNDS = 5
#: A column beats a round's shadows when its importance exceeds this quantile
#: of theirs. Chosen on the dev suite's noise variants, where the real and
#: the noise columns are known (``benchmarks/dev/shadow_rule.py``): the
#: maximum, Boruta's yardstick, drops many real columns of weak signal.
SHADOW_QUANTILE = 0.9
N_TREES = 100


def shadow_feature_mask(X, y, sample_weight=None, random_state=None):
    """Which columns of X are more important for y than shuffled copies of the columns.

    Each round fits ``ExtraTreesClassifier(100, class_weight='balanced')``
    (a minority class counts as much as the others) on X beside its shadows
    and compares each column's impurity importance with the
    ``SHADOW_QUANTILE`` quantile of the shadows' importances.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,), default=None
        Row weights of the forests' fits.
    random_state : int, default=None
        Seeds the shadows and the forests.

    Returns
    -------
    mask : ndarray of bool, shape (n_features,)
        True for the columns kept. When no column passes (no evidence
        either way, e.g. on a handful of rows), every column is kept.
    """
    mask = shadow_votes(X, y, sample_weight, random_state)[SHADOW_QUANTILE] > N_ROUNDS // 2
    return mask if mask.any() else np.ones(X.shape[1], dtype=bool)


def shadow_votes(X, y, sample_weight=None, random_state=None, quantiles=(SHADOW_QUANTILE,)):
    """In how many of ``N_ROUNDS`` rounds each column beat each quantile of its round's shadows.

    Returns ``{quantile: ndarray of int, shape (n_features,)}`` (the rounds
    are the same for every quantile; 1.0 is the shadows' maximum, Boruta's
    yardstick). See :func:`shadow_feature_mask` for the parameters.
    """
    rng = np.random.default_rng(random_state)
    n_features = X.shape[1]
    votes = {q: np.zeros(n_features, dtype=int) for q in quantiles}
    for _ in range(N_ROUNDS):
        shadows = rng.permuted(X, axis=0)
        forest = ExtraTreesClassifier(N_TREES, class_weight="balanced", n_jobs=1,
                                      random_state=int(rng.integers(np.iinfo(np.int32).max)))
        forest.fit(np.hstack([X, shadows]), y, sample_weight=sample_weight)
        importance = forest.feature_importances_
        for q in quantiles:
            votes[q] += importance[:n_features] > np.quantile(importance[n_features:], q)
    return votes
