"""SMOTE that also works for classes with very few samples."""

import numbers

import numpy as np
from scipy import sparse
from imblearn.over_sampling import SMOTE
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import Interval


class SafeSMOTE(SMOTE):
    """SMOTE whose neighbourhood shrinks to fit small classes.

    Plain :class:`~imblearn.over_sampling.SMOTE` raises as soon as a class
    to oversample has ``k_neighbors`` samples or fewer, which happens in the
    inner folds of a grid search on datasets such as lymph or
    one-hundred-plants. Here each class uses
    ``min(k_neighbors, n_class_samples - 1)`` neighbours, and a class with a
    single sample is oversampled by repeating it (there is nothing to
    interpolate with).

    Parameters
    ----------
    sampling_strategy : float, str, dict or callable, default="auto"
        Same as in :class:`~imblearn.over_sampling.SMOTE`.

    random_state : int, RandomState instance or None, default=None
        Controls the interpolation steps and the neighbour choice.

    k_neighbors : int, default=5
        Largest number of nearest neighbours used to build synthetic samples.

    Attributes
    ----------
    sampling_strategy_ : dict
        Number of samples generated per class.

    k_neighbors_ : dict
        Number of neighbours actually used for each oversampled class.
    """

    _parameter_constraints: dict = {
        **SMOTE._parameter_constraints,
        "k_neighbors": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def _fit_resample(self, X, y):
        X_resampled, y_resampled = [X.copy()], [y.copy()]
        self.k_neighbors_ = {}
        for class_sample, n_samples in self.sampling_strategy_.items():
            if n_samples == 0:
                continue
            X_class = _safe_indexing(X, np.flatnonzero(y == class_sample))
            n_class = X_class.shape[0]
            k = min(self.k_neighbors, n_class - 1)
            self.k_neighbors_[class_sample] = k
            if k == 0:
                X_new = X_class[np.zeros(n_samples, dtype=int)]
                y_new = np.full(n_samples, class_sample, dtype=y.dtype)
            else:
                nn = NearestNeighbors(n_neighbors=k + 1).fit(X_class)
                nns = nn.kneighbors(X_class, return_distance=False)[:, 1:]
                X_new, y_new = self._make_samples(
                    X_class, y.dtype, class_sample, X_class, nns, n_samples, 1.0
                )
            X_resampled.append(X_new)
            y_resampled.append(y_new)
        if sparse.issparse(X):
            return sparse.vstack(X_resampled, format=X.format), np.hstack(y_resampled)
        return np.vstack(X_resampled), np.hstack(y_resampled)
