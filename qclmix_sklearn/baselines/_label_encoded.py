"""Meta-estimators fitting a classifier on labels 0..n-1: their base, and one with class weights."""

import inspect

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._estimator._label_types import encode_class_labels

# The fitted attributes of every subclass, documented once: appended to each subclass's
# docstring, whose Attributes section ends with the attributes of its own.
_ENCODED_LABELS_ATTRIBUTES = """
classes_ : ndarray of shape (n_classes,)
    The original class labels, sorted.

n_features_in_ : int
    Number of features seen during fit.

feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when X has string column names.
"""


class _LabelEncodedBase(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Base of the meta-estimators that fit ``estimator`` on labels ``0 .. n_classes-1``.

    It validates ``X`` and ``y`` (as scikit-learn's ``validate_data`` does),
    sets ``classes_`` (the original labels, sorted) and the feature
    attributes, and hands ``X`` on to the fitted ``estimator_``. A subclass
    writes ``fit`` around :meth:`_fit_data`, picks the predicted class in
    :meth:`_predict_encoded`, and may change how ``X`` is checked and passed
    on (``_X_checks``, ``_passes_checked_X``) and how the wrapped
    probabilities are returned (:meth:`_proba`). The attributes ``classes_``,
    ``n_features_in_`` and ``feature_names_in_`` are documented here once and
    appended to each subclass's docstring.
    """

    # Keyword arguments of ``validate_data`` for X, and whether ``estimator_``
    # gets the checked copy (or X as the caller gave it).
    _X_checks: dict = {}
    _passes_checked_X = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__doc__:  # python -OO strips docstrings
            # cleandoc: Python >= 3.13 strips the indentation of docstrings, earlier ones do not.
            cls.__doc__ = inspect.cleandoc(cls.__doc__) + "\n" + _ENCODED_LABELS_ATTRIBUTES

    def _fit_data(self, X, y):
        """``(X, y_encoded)`` to fit ``estimator_`` on; sets ``classes_`` and ``n_features_in_``."""
        X_checked, y = validate_data(self, X, y, reset=True, **self._X_checks)
        return (X_checked if self._passes_checked_X else X), encode_class_labels(self, y)

    def _delegate(self, method, X):
        """``estimator_.method`` of ``X``, checked against the data seen in ``fit``."""
        check_is_fitted(self)
        X_checked = validate_data(self, X, reset=False, **self._X_checks)
        return getattr(self.estimator_, method)(X_checked if self._passes_checked_X else X)

    def _predict_encoded(self, X):
        """The predicted classes of ``X`` as indices into ``classes_``."""
        raise NotImplementedError

    def _proba(self, X):
        """The probabilities ``predict_proba`` returns: the wrapped classifier's, as they are."""
        return self._delegate("predict_proba", X)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, out of ``classes_``.
        """
        encoded = self._predict_encoded(X)  # first: it checks that self is fitted
        return self.classes_[encoded]

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples, whose probabilities the wrapped classifier gives.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class.
        """
        return self._proba(X)


class LabelEncodedClassifier(_LabelEncodedBase):
    """Fit a classifier on labels encoded as ``0..n_classes-1``.

    XGBoost only accepts the integer labels ``0..n_classes-1``; string
    labels, or a training fold in which some class is missing, break it.
    This wrapper encodes the labels before fitting and decodes the
    predictions, so ``classes_`` are the original labels. It also adds
    ``class_weight`` (turned into ``sample_weight``) to estimators that lack
    it, which is how XGBoost gets a fair chance on imbalanced data.

    Parameters
    ----------
    estimator : classifier object
        The classifier to wrap; it is cloned in ``fit``.

    class_weight : {"balanced"}, dict or None, default=None
        Weights of the classes, as in
        :func:`~sklearn.utils.class_weight.compute_sample_weight`; dict keys
        are original labels.

    Attributes
    ----------
    estimator_ : classifier object
        The fitted clone of ``estimator``.
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "class_weight": [StrOptions({"balanced"}), dict, None],
    }

    def __init__(self, estimator, *, class_weight=None):
        self.estimator = estimator
        self.class_weight = class_weight

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Fit the wrapped classifier on the encoded labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.

        y : array-like of shape (n_samples,)
            Target labels, of any type.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, multiplied by the class weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y_encoded = self._fit_data(X, y)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if self.class_weight is not None:
            # Keyed by the original labels.
            weights = compute_sample_weight(self.class_weight, self.classes_[y_encoded])
            sample_weight = weights if sample_weight is None else weights * sample_weight
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError("Sample weights are all zero (or negative): nothing to fit.")
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(self.estimator).fit(X, y_encoded, **fit_params)
        return self

    def _predict_encoded(self, X):
        return np.asarray(self._delegate("predict", X), dtype=int)
