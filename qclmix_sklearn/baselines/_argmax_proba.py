"""Meta-estimator: fit on labels 0..n-1, predict the class of highest probability."""

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods

from ._label_encoded import _LabelEncodedBase


class ArgmaxProbaClassifier(_LabelEncodedBase):
    """Fit a classifier on encoded labels and predict ``argmax(predict_proba)``.

    Some libraries' classifiers are not quite scikit-learn's: CatBoost's
    ``predict`` returns a column of shape ``(n_samples, 1)`` instead of a
    vector. This wrapper fits them on labels ``0 .. n_classes-1`` and gives
    back original labels of any type, ``classes_`` in sorted order,
    probabilities in that order and a 1-d ``predict``. ``X`` is validated (2-d, not sparse, not
    empty; NaN allowed) but passed to the wrapped classifier unchanged (a
    DataFrame stays one).

    Parameters
    ----------
    estimator : classifier object
        A classifier with ``fit`` and ``predict_proba``; it is cloned in ``fit``.

    Attributes
    ----------
    estimator_ : classifier object
        The fitted clone of ``estimator``, trained on labels ``0 .. n_classes-1``.
    """

    _parameter_constraints: dict = {"estimator": [HasMethods(["fit", "predict_proba"])]}
    # X is checked (NaN allowed) but passed on as given: a DataFrame stays one.
    _X_checks = {"dtype": None, "ensure_all_finite": "allow-nan"}
    _passes_checked_X = False

    def __init__(self, estimator):
        self.estimator = estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the wrapped classifier on the encoded labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, passed on unchanged.

        y : array-like of shape (n_samples,)
            Target labels, of any type.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._fit_encoded(*self._fit_data(X, y))
        return self

    def _fit_encoded(self, X, y_encoded):
        self.estimator_ = clone(self.estimator).fit(X, y_encoded)

    def _proba(self, X):
        proba = self._delegate("predict_proba", X)
        return _in_class_order(self.estimator_, proba, len(self.classes_))

    def _predict_encoded(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _in_class_order(estimator, proba, n_classes):
    """``proba``'s columns (in ``estimator.classes_`` order) placed at their encoded labels."""
    proba = np.asarray(proba, dtype=np.float64)
    columns = np.asarray(estimator.classes_).astype(int).ravel()
    if proba.shape[1] == n_classes and np.array_equal(columns, np.arange(n_classes)):
        return proba
    ordered = np.zeros((proba.shape[0], n_classes))
    ordered[:, columns] = proba
    return ordered
