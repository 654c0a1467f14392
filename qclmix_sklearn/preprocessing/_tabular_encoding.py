"""Mixed-type tabular input: categories one-hot encoded, missing numbers filled.

The torch estimators take what ``HistGradientBoostingClassifier`` takes: a
DataFrame (or array) whose categorical columns hold any labels and whose
numeric columns may hold NaN. ``fit`` learns the encoding (scikit-learn's
``ColumnTransformer`` of ``SimpleImputer`` and ``OneHotEncoder``), prediction
applies it. Numeric columns are passed through as they are (scale them
yourself, e.g. with ``StandardScaler`` in a ``ColumnTransformer``, or rely on
their scale); complete numeric data never reaches the encoding at all, so it
trains (and predicts) exactly as before.
"""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder
from sklearn.utils.validation import validate_data

__all__ = [
    "TabularEncoder",
    "categorical_mask",
    "validate_fit_features",
    "validate_predict_features",
]


def _is_time_dtype(dtype):
    return (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    )


def _check_no_time_columns(estimator, X):
    """Refuse a DataFrame's date, time-delta and period columns, naming them.

    numpy cannot hold them in one array with other columns (its
    ``DTypePromotionError`` names neither the column nor a remedy).
    """
    if not hasattr(X, "dtypes") or not hasattr(X, "columns"):
        return
    times = [(column, dtype) for column, dtype in zip(X.columns, X.dtypes)
             if _is_time_dtype(dtype)]
    if times:
        named = ", ".join(f"{column!r} ({dtype})" for column, dtype in times)
        raise ValueError(
            f"X has date or time column(s) {named}, which {type(estimator).__name__} "
            "cannot take: convert them to numbers (e.g. the timestamp, or year, month "
            "and day of week), or to strings to treat them as categories."
        )


def _is_categorical_dtype(dtype):
    return (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or pd.api.types.is_bool_dtype(dtype)
    )


def categorical_mask(categorical_features, X):
    """Which columns of the raw ``X`` are categorical, as a boolean array (or None: none).

    ``categorical_features``: ``'from_dtype'`` (a DataFrame's category,
    object, string and bool columns; nothing for arrays), ``None`` (none), or
    an array-like of column indices, of column names (DataFrames) or a
    boolean mask over the columns.
    """
    if categorical_features is None or not hasattr(X, "shape") or len(X.shape) != 2:
        return None
    n_features = X.shape[1]
    columns = list(X.columns) if hasattr(X, "columns") else None
    if isinstance(categorical_features, str):  # 'from_dtype' (the only string allowed)
        if columns is None:
            return None
        mask = np.array([_is_categorical_dtype(dtype) for dtype in X.dtypes], dtype=bool)
        return mask if mask.any() else None
    features = np.asarray(categorical_features)
    if features.size == 0:
        return None
    if features.dtype.kind == "b":
        if features.shape != (n_features,):
            raise ValueError(
                f"categorical_features as a boolean mask needs {n_features} entries, "
                f"one per column; got shape {features.shape}."
            )
        mask = features.copy()
    elif features.dtype.kind in "OU" and all(isinstance(f, str) for f in features.ravel()):
        if columns is None:
            raise ValueError(
                "categorical_features holds column names, which need X as a DataFrame."
            )
        unknown = sorted(set(features.ravel()) - set(map(str, columns)))
        if unknown:
            raise ValueError(f"categorical_features names unknown columns: {unknown}.")
        mask = np.isin(np.array(columns, dtype=object).astype(str), features.ravel())
    elif all(isinstance(f, Integral) for f in features.ravel()):
        if features.min() < -n_features or features.max() >= n_features:
            raise ValueError(
                f"categorical_features indices must lie in [0, {n_features}); "
                f"got {features.tolist()}."
            )
        mask = np.zeros(n_features, dtype=bool)
        mask[features] = True
    else:
        raise ValueError(
            "categorical_features must be 'from_dtype', None, or column indices, "
            f"column names or a boolean mask; got {categorical_features!r}."
        )
    return mask if mask.any() else None


def as_labels(values):
    """Categories as strings (one type for the encoder), missing ones as NaN."""
    missing = pd.isna(values)
    labels = values.astype(str).astype(object)
    labels[missing] = np.nan
    return labels


def as_numbers(values):
    """Numeric columns as floats; those of an object array as float64, None and pd.NA as NaN."""
    if values.dtype != object:
        return values
    try:
        return np.where(pd.isna(values), np.nan, values).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"A column treated as numeric holds non-numeric values ({exc}); "
            "declare it in categorical_features."
        ) from exc


class TabularEncoder:
    """Numeric columns (missing values filled), their missing indicators, one-hot categories.

    scikit-learn's ``ColumnTransformer`` of ``SimpleImputer(strategy='median',
    add_indicator=True, keep_empty_features=True)`` on the numeric columns and
    ``OneHotEncoder(handle_unknown='ignore')`` on the categorical ones, fitted
    on the validated 2-d array (object dtype when there are categorical
    columns) of the training data:

    - a categorical column becomes one 0/1 column per category seen in
      ``fit``, its values compared as strings; a missing value is a category
      of its own; a category unseen in ``fit`` encodes as all zeros;
    - a numeric column with missing values in ``fit`` gets them filled with
      its training median (0 if it had no value at all) plus a 0/1 indicator
      column "was missing";
    - a numeric column without missing values in ``fit`` must not have any
      later: the model never learned what they mean (a ValueError says so,
      where the imputer alone would fill them silently).

    Parameters
    ----------
    categorical : ndarray of bool of shape (n_features,) or None
        The categorical columns.

    Attributes
    ----------
    columns_ : ColumnTransformer
        The fitted encoding, of the pipelines ``'numeric'`` (floats, then the
        SimpleImputer) and ``'categorical'`` (strings, then the
        OneHotEncoder); each is fitted only where it has columns.
    numeric_, categorical_ : ndarray of int
        The numeric and the categorical columns of X.
    missing_ : ndarray of int
        Positions in ``numeric_`` of the columns with missing values in
        ``fit``: those with an indicator column.
    n_outputs_ : int
        Columns of the encoded X.
    """

    def __init__(self, categorical=None):
        self.categorical = categorical

    def fit_transform(self, X):
        mask = np.zeros(X.shape[1], dtype=bool) if self.categorical is None else self.categorical
        self.categorical_ = np.flatnonzero(mask)
        self.numeric_ = np.flatnonzero(~mask)
        imputer = SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)
        one_hot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        self.columns_ = ColumnTransformer([
            ("numeric", make_pipeline(FunctionTransformer(as_numbers), imputer), self.numeric_),
            ("categorical", make_pipeline(FunctionTransformer(as_labels), one_hot),
             self.categorical_),
        ]).set_output(transform="default")  # an ndarray, whatever sklearn's global config says
        encoded = self.columns_.fit_transform(X)
        self.missing_ = np.flatnonzero(self._has_missing(X))
        self.n_outputs_ = encoded.shape[1]
        return encoded

    def transform(self, X):
        unexpected = self._has_missing(X)
        unexpected[self.missing_] = False
        if unexpected.any():
            raise ValueError(
                "X has missing values (NaN) in numeric column(s) "
                f"{self.numeric_[unexpected].tolist()}, which had none in fit: the "
                "model has not learned how to treat them."
            )
        return self.columns_.transform(X)

    def _has_missing(self, X):
        """Whether each numeric column of X has a missing value (NaN, None, pd.NA)."""
        return pd.isna(X[:, self.numeric_]).any(axis=0)


def _numeric_data(estimator, X, y="no_validation", ensure_all_finite="allow-nan", **kwargs):
    """``validate_data`` to float, naming ``categorical_features`` when a column is text."""
    try:
        return validate_data(estimator, X, y, dtype=[np.float32, np.float64],
                             ensure_all_finite=ensure_all_finite, **kwargs)
    except ValueError as exc:
        if "convert" not in str(exc) and "cast" not in str(exc):
            raise
        raise ValueError(
            f"X has non-numeric values ({exc}); declare such columns in "
            "categorical_features (a DataFrame's category, object, string and bool "
            "columns are found by default)."
        ) from exc


def validate_fit_features(estimator, X, y):
    """``validate_data`` for ``fit``, encoding mixed-type X; sets ``feature_encoder_``.

    Complete numeric X comes back from ``validate_data`` untouched (float32 or
    float64) and ``feature_encoder_`` is None. Otherwise X is encoded by a
    fitted :class:`TabularEncoder` (float64, or float32 for float32 X without
    categorical columns). Sparse X is refused by ``validate_data``; infinity is
    refused in any case.
    """
    _check_no_time_columns(estimator, X)
    mask = categorical_mask(estimator.categorical_features, X)
    if mask is None:
        X, y = _numeric_data(estimator, X, y, ensure_min_samples=2)
        if not np.isnan(X).any():
            estimator.feature_encoder_ = None
            return X, y
    else:
        X, y = validate_data(estimator, X, y, dtype=object, ensure_all_finite=False,
                             ensure_min_samples=2)
    estimator.feature_encoder_ = TabularEncoder(mask)
    return estimator.feature_encoder_.fit_transform(X), y


def validate_predict_features(estimator, X):
    """``validate_data(reset=False)`` for prediction, with the encoding learnt in ``fit``."""
    encoder = getattr(estimator, "feature_encoder_", None)
    _check_no_time_columns(estimator, X)
    if encoder is not None and len(encoder.categorical_):
        X = validate_data(estimator, X, dtype=object, ensure_all_finite=False, reset=False)
        return encoder.transform(X)
    if encoder is not None:
        return encoder.transform(_numeric_data(estimator, X, reset=False))
    try:
        # Finite X passes scikit-learn's one pass (a sum) over it.
        return _numeric_data(estimator, X, reset=False, ensure_all_finite=True)
    except ValueError as exc:
        if "NaN" not in str(exc):
            raise
        raise ValueError(
            "X has missing values (NaN), but the training data had none: the model "
            "has not learned how to treat them."
        ) from exc
