"""Meta-estimator giving any classifier original labels and class weights."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils._available_if import available_if
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
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

    classes_ : ndarray of shape (n_classes,)
        The original class labels.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
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
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                "LabelEncodedClassifier needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if self.class_weight is not None:
            weights = compute_sample_weight(self.class_weight, y)
            sample_weight = weights if sample_weight is None else weights * sample_weight
        if sample_weight is not None and not np.any(sample_weight > 0):
            raise ValueError("Sample weights are all zero (or negative): nothing to fit.")
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        self.estimator_ = clone(self.estimator).fit(X, encoder.transform(y), **fit_params)
        return self

    def predict(self, X):
        """Predict original class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.classes_[np.asarray(self.estimator_.predict(X), dtype=int)]

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
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
        X = validate_data(self, X, reset=False)
        return self.estimator_.predict_proba(X)
