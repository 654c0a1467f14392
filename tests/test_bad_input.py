"""Bad input: a clear error naming the problem, or a correct fit. Never NaN or a hang."""

import numpy as np
import pytest
import scipy.sparse as sp

from qclmix_sklearn import QCLMixClassifier

FAST = dict(max_epochs=2, random_state=0)


def blobs(n=60, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return rng.normal(size=(n, n_features)) + y[:, None], y


def fit_ok(X, y, **params):
    model = QCLMixClassifier(**{**FAST, **params}).fit(X, y)
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    return model


@pytest.mark.parametrize("value, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_nan_or_inf_in_X(value, message):
    X, y = blobs()
    X[3, 1] = value
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**FAST).fit(X, y)


def test_values_overflowing_float32():
    X, y = blobs()
    X[0, 0] = 1e300
    with pytest.raises(ValueError, match="too large for float32"):
        QCLMixClassifier(**FAST).fit(X, y)


def test_empty_X():
    with pytest.raises(ValueError, match="0 sample"):
        QCLMixClassifier(**FAST).fit(np.empty((0, 3)), np.empty(0))


def test_X_y_length_mismatch():
    X, y = blobs()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        QCLMixClassifier(**FAST).fit(X, y[:-1])


def test_one_class_only():
    X, _ = blobs()
    with pytest.raises(ValueError, match="at least 2 classes"):
        QCLMixClassifier(**FAST).fit(X, np.zeros(len(X)))


def test_a_class_with_a_single_sample_still_fits():
    X, y = blobs()
    y[0] = 2
    model = fit_ok(X, y)
    assert list(model.classes_) == [0, 1, 2]


def test_continuous_y():
    X, _ = blobs()
    with pytest.raises(ValueError, match="Unknown label type"):
        QCLMixClassifier(**FAST).fit(X, np.linspace(0, 1, len(X)))


def test_sparse_X_is_refused_with_a_clear_error():
    # Densifying silently could exhaust memory on a wide sparse matrix.
    X, y = blobs()
    with pytest.raises(TypeError, match="[Ss]parse data was passed"):
        QCLMixClassifier(**FAST).fit(sp.csr_matrix(X), y)


def test_wrong_feature_count_at_predict():
    X, y = blobs()
    model = fit_ok(X, y)
    with pytest.raises(ValueError, match="4 features"):
        model.predict(X[:, :3])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.int32])
def test_numeric_dtypes(dtype):
    X, y = blobs()
    fit_ok((X * 10).astype(dtype), y)


@pytest.mark.parametrize("n", [2, 3, 7, 20, 65])
def test_datasets_smaller_than_one_batch_or_with_a_last_batch_of_one(n):
    X, y = blobs(n)
    fit_ok(X, y)


def test_batches_holding_a_single_class():
    X, y = blobs(40)
    order = np.argsort(y)  # batches of 2 without shuffling luck: many single-class batches
    fit_ok(X[order], y[order], batch_size=2, max_epochs=3)


def test_extreme_imbalance_1000_to_1():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2002, 5))
    y = np.zeros(2002, dtype=int)
    y[:2] = 1
    X[:2] += 3
    model = fit_ok(X, y, max_epochs=1)
    assert list(model.classes_) == [0, 1]


def test_a_non_finite_loss_stops_training_with_an_error_that_says_so():
    X, y = blobs()
    # Unscaled features of this size overflow inside the network (q . k ~ 1e60).
    with pytest.raises(FloatingPointError, match="non-finite"):
        QCLMixClassifier(**FAST).fit(X * 1e30, y)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"mixup_space": "latent"}, "mixup_space"),
        ({"device": 3}, "device"),
    ],
)
def test_invalid_parameters_are_named(params, message):
    X, y = blobs()
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**params).fit(X, y)
