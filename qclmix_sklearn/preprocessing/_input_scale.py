"""Training data too large for the network, refused before training starts."""

import numpy as np

__all__ = ["check_trainable_scale"]

#: sqrt(float32 max) ~ 1.8e19: training squares activations of the size of the
#: inputs (BatchNorm's batch variance, the attention's query-key product), and
#: the square of a larger value overflows float32.
LARGEST_TRAINABLE = float(np.sqrt(np.finfo(np.float32).max))


def check_trainable_scale(estimator, X):
    """Refuse values of the (encoded) training X beyond :data:`LARGEST_TRAINABLE`.

    Without this, such a value makes the training loss non-finite after a
    batch or an epoch (a ``FloatingPointError`` from the training loop).
    The error names the first such row and column as ``predict`` does for
    rows that overflow the fitted network.

    Parameters
    ----------
    estimator : QCLMixClassifier
        Fitted as far as ``feature_encoder_`` (and ``feature_names_in_``).
    X : ndarray of shape (n_samples, n_outputs)
        The validated, encoded training data.
    """
    rows, columns = np.nonzero(np.abs(X) > LARGEST_TRAINABLE)
    if len(rows) == 0:
        return
    row, column = rows[0], columns[0]
    largest = float(np.abs(X[row, column]))
    encoder = getattr(estimator, "feature_encoder_", None)
    # Encoded X starts with the numeric columns (the rest are 0/1 columns).
    column = column if encoder is None else encoder.numeric_[column]
    names = getattr(estimator, "feature_names_in_", None)
    named = f"column {column}" if names is None else f"column {names[column]!r}"
    raise ValueError(
        f"X has values too large for the network: {len(np.unique(rows))} row(s) (first: "
        f"row {row}, {named}, |x| = {largest:.3g}) exceed {LARGEST_TRAINABLE:.2g}, beyond "
        "which training overflows float32. Standardise the features (e.g. "
        "StandardScaler), clip their outliers, or set input_scaling='robust_smooth_clip'."
    )
