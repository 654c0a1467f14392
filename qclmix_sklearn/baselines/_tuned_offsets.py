"""Meta-estimator: any probabilistic classifier with QCLMix's ``decision_rule='tuned'``."""

import warnings
from numbers import Integral

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.utils._param_validation import HasMethods, Interval

from ..ensemble._class_offsets import tune_class_offsets
from ._argmax_proba import ArgmaxProbaClassifier


class TunedOffsetsClassifier(ArgmaxProbaClassifier):
    """Predict ``argmax(log proba + offsets)`` with per-class offsets tuned for macro-F1.

    The decision rule :class:`~qclmix_sklearn.QCLMixClassifier` uses with
    ``decision_rule='tuned'``, for any classifier with ``predict_proba``, so
    that a comparison measures the models and not who tuned the decision:
    ``fit`` computes out-of-fold probabilities of the training data with
    ``cv`` stratified folds, chooses the per-class log-probability offsets
    that maximise macro-F1 on them
    (:func:`~qclmix_sklearn.ensemble._class_offsets.tune_class_offsets`: offsets stay
    0 without evidence), then refits the classifier on all training data.
    Fitting costs ``cv + 1`` fits of the classifier.

    Parameters
    ----------
    estimator : classifier object
        A classifier with ``fit`` and ``predict_proba``; it is cloned.

    cv : int, default=3
        Folds of the out-of-fold predictions; fewer (at least 2) when the
        smallest class has fewer samples.

    random_state : int, RandomState instance or None, default=None
        Shuffles the folds.

    Attributes
    ----------
    estimator_ : classifier object
        The classifier refitted on all training data (labels ``0 .. n_classes-1``).

    class_offsets_ : ndarray of shape (n_classes,)
        Offsets added to the log-probabilities in ``predict``, in ``classes_`` order.
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, cv=3, random_state=None):
        super().__init__(estimator)
        self.cv = cv
        self.random_state = random_state

    def _fit_encoded(self, X, y_encoded):
        """Tune the offsets on out-of-fold probabilities, then refit on all of ``X``."""
        smallest = np.bincount(y_encoded).min()
        folds = StratifiedKFold(
            max(2, min(self.cv, smallest)), shuffle=True, random_state=self.random_state
        )
        with warnings.catch_warnings():
            # A class smaller than the folds is fine: it is missing from some training parts,
            # and cross_val_predict gives it probability 0 there.
            warnings.filterwarnings("ignore", message="The least populated class")
            proba = cross_val_predict(
                clone(self.estimator), X, y_encoded, cv=folds, method="predict_proba"
            )
        # Floored at the smallest float: a class absent from a training part has probability 0
        # there, and a finite log keeps every score difference finite for the search.
        log_proba = np.log(np.maximum(proba, np.finfo(np.float64).tiny))
        self.class_offsets_ = tune_class_offsets(log_proba, y_encoded)
        super()._fit_encoded(X, y_encoded)

    def _predict_encoded(self, X):
        with np.errstate(divide="ignore"):
            scores = np.log(self.predict_proba(X)) + self.class_offsets_
        return scores.argmax(axis=1)
