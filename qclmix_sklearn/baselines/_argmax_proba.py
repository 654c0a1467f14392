"""Meta-estimator: fit on labels 0..n-1, predict the class of highest probability."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)


class ArgmaxProbaClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
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

    classes_ : ndarray of shape (n_classes,)
        The original class labels, sorted.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    """

    _parameter_constraints: dict = {"estimator": [HasMethods(["fit", "predict_proba"])]}

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
        self.estimator_ = clone(self.estimator).fit(X, self._encode(X, y))
        return self

    def _encode(self, X, y):
        """Validate, set ``classes_`` and the feature attributes; return ``y`` as 0..n-1."""
        _validated(self, X, reset=True)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})."
            )
        return encoder.transform(y)

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class.
        """
        check_is_fitted(self)
        _validated(self, X, reset=False)
        proba = self.estimator_.predict_proba(X)
        return _in_class_order(self.estimator_, proba, len(self.classes_))

    def predict(self, X):
        """The class of highest probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


def _validated(estimator, X, reset):
    """Check ``X`` and set (or compare) the feature attributes; the checked copy is not kept."""
    validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite="allow-nan")


def _in_class_order(estimator, proba, n_classes):
    """``proba``'s columns (in ``estimator.classes_`` order) placed at their encoded labels."""
    proba = np.asarray(proba, dtype=np.float64)
    columns = np.asarray(estimator.classes_).astype(int).ravel()
    if proba.shape[1] == n_classes and np.array_equal(columns, np.arange(n_classes)):
        return proba
    ordered = np.zeros((proba.shape[0], n_classes))
    ordered[:, columns] = proba
    return ordered
