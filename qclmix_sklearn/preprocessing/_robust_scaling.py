"""RealMLP-TD's input preprocessing: robust scaling, then smooth clipping.

Holzmüller et al. (arXiv 2407.04491) centre each column at its median,
divide it by its 25-75% interquantile range and squash outliers smoothly
with ``x / sqrt(1 + (x / 3) ** 2)``, which is about the identity near 0 and
tends to +-3. This module re-implements pytabkit's ``median_center``,
``robust_scale`` and ``smooth_clip`` transforms (equal to them, tested), as
one scikit-learn transformer.
"""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["RobustSmoothClipScaler"]

# pytabkit's robust_scale_eps: keeps 1 / range finite for a tiny but positive range.
_EPS = 1e-30


class RobustSmoothClipScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """``smooth_clip((x - median) / range)`` per column, as RealMLP-TD preprocesses.

    ``range`` is the column's 75% minus its 25% quantile (numpy's linear
    interpolation); where that is 0 (a column with mostly one value), half the
    distance between its largest and smallest value; where that is 0 too (a
    constant column), the column becomes 0. ``smooth_clip(x) = x / sqrt(1 +
    x ** 2 / max_abs_value ** 2)``. Computed in the dtype of X (float32 for
    the torch estimators), in pytabkit's order of operations.

    Parameters
    ----------
    max_abs_value : float, default=3.0
        The bound the clipped values approach (RealMLP-TD's 3); ``np.inf``:
        robust scaling alone.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Column medians of the training data.
    scale_ : ndarray of shape (n_features,)
        Factors applied after centring: ``1 / range``, or 0 for a constant column.
    n_features_in_ : int
        Number of features seen in fit.
    """

    def __init__(self, max_abs_value=3.0):
        self.max_abs_value = max_abs_value

    def fit(self, X, y=None):
        """Learn the medians and ranges of X's columns.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        dtype = X.dtype
        self.center_ = np.quantile(X, 0.5, axis=0).astype(dtype)
        # pytabkit fits the scale on the centred data (its transforms run in sequence).
        centred = X - self.center_
        spread = (np.quantile(centred, 0.75, axis=0).astype(dtype)
                  - np.quantile(centred, 0.25, axis=0).astype(dtype))
        flat = spread == 0
        spread[flat] = dtype.type(0.5) * (centred.max(axis=0)[flat] - centred.min(axis=0)[flat])
        scale = dtype.type(1.0) / (spread + dtype.type(_EPS))
        scale[spread == 0] = 0
        self.scale_ = scale
        return self

    def transform(self, X):
        """Scale and clip X with the training statistics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        X_scaled : ndarray of shape (n_samples, n_features)
            Values in (-max_abs_value, max_abs_value), X's float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        inverse_square = X.dtype.type(1.0 / self.max_abs_value ** 2)
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = (X - self.center_.astype(X.dtype)) * self.scale_.astype(X.dtype)
            square = scaled ** 2
            clipped = scaled / np.sqrt(X.dtype.type(1.0) + inverse_square * square)
        # Where the square overflows (|x| > 1.8e19 in float32), x / sqrt(1 + x^2 / m^2)
        # is +-m to the dtype's precision (x itself without clipping); the formula
        # would give 0 (or NaN).
        huge = np.isinf(square)
        if huge.any():
            clipped[huge] = (scaled[huge] if np.isinf(self.max_abs_value)
                             else np.copysign(self.max_abs_value, scaled[huge]))
        return clipped
