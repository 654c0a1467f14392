"""Bad input: a clear error naming the problem, or a correct fit. Never NaN or a hang."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from qclmix_sklearn import QCLMixClassifier

FAST = dict(max_epochs=2, random_state=0, portfolio=None)  # one configuration


def blobs(n=60, n_features=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    return rng.normal(size=(n, n_features)) + y[:, None], y


def fit_ok(X, y, **params):
    model = QCLMixClassifier(**{**FAST, **params}).fit(X, y)
    proba = model.predict_proba(X)
    assert np.isfinite(proba).all()
    return model


def test_inf_in_X_is_refused_and_nan_is_a_missing_value():
    X, y = blobs()
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        QCLMixClassifier(**FAST).fit(X, y)
    X[3, 1] = np.nan  # filled with the median plus a missing indicator (issue 11)
    assert fit_ok(X, y).feature_encoder_.missing_.tolist() == [1]


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


def training_rows_of_each_member(monkeypatch):
    """Record the rows every network of a fit trains on."""
    seen = []
    # Both member-training paths build every member's net through _unfitted_net.
    unfitted_net = QCLMixClassifier._unfitted_net

    def spy(self, data, fit_idx, valid_idx):
        seen.append(np.asarray(data.y)[fit_idx])
        return unfitted_net(self, data, fit_idx, valid_idx)

    monkeypatch.setattr(QCLMixClassifier, "_unfitted_net", spy)
    return seen


def test_a_member_trained_on_a_single_class_only(monkeypatch):
    # A class of one row: the cross-fit member that holds it out trains on the
    # other class alone, so every one of its batches is single-class, for sure.
    X, y = blobs(21)
    y[:] = 0
    y[5] = 1
    fitted_labels = training_rows_of_each_member(monkeypatch)
    model = fit_ok(X, y, n_folds=3, batch_size=4, max_epochs=3)
    assert len(model.nets_) == 3
    assert sorted(len(np.unique(labels)) for labels in fitted_labels) == [1, 2, 2]
    assert np.isfinite(model.transform(X)).all()


@pytest.mark.parametrize("n, n_members", [(6, 2), (4, 1)])
def test_classes_smaller_than_the_default_folds_get_fewer_folds(n, n_members):
    # 6 rows of 3 classes: 2 folds (the largest class has 2 rows); 4 rows of 4
    # classes: 1 row per class cannot be stratified, so one network.
    X, _ = blobs(n)
    y = np.arange(n) % (n // 2 if n == 6 else n)
    model = fit_ok(X, y)
    assert len(model.nets_) == n_members


@pytest.mark.parametrize("method", ["predict", "predict_proba", "transform"])
def test_finite_but_huge_input_at_predict_is_refused_naming_X(method):
    X, y = blobs()
    model = fit_ok(X, y)
    X_new = X[:5].copy()
    X_new[2, 1] = 1e20  # finite, but its attention score overflows float32
    with pytest.raises(ValueError, match="X has values too large for the network.*row 2"):
        getattr(model, method)(X_new)
    assert len(getattr(model, method)(X[:5])) == 5  # the same rows without it are fine


def test_deep_baselines_share_the_overflow_guard():
    from qclmix_sklearn.baselines import TorchMLPClassifier

    X, y = blobs()
    model = TorchMLPClassifier(max_epochs=1, random_state=0).fit(X, y)
    X_new = np.full((2, X.shape[1]), 3e38)  # every feature at float32's maximum
    X_new[1] *= -1
    with pytest.raises(ValueError, match="X has values too large for the network"):
        model.predict_proba(X_new)
    with pytest.raises(ValueError, match="X has values too large for the network"):
        model.predict(X_new)


@pytest.mark.parametrize("labels", [["a", 1], [1, "a"], ["a", 2.5], ["a", None]])
def test_labels_of_mixed_types_are_a_clear_error_naming_y(labels):
    X, _ = blobs()
    y = np.array(labels * 30, dtype=object)
    with pytest.raises(TypeError, match="y mixes labels of different types"):
        QCLMixClassifier(**FAST).fit(X, y)


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
    # Steps of this size throw the weights beyond float32 within the first epochs.
    with pytest.raises(FloatingPointError, match="non-finite"):
        QCLMixClassifier(**FAST, lr=1e30, max_lr=None).fit(X, y)


def test_finite_but_huge_input_in_fit_is_refused_up_front_naming_row_and_column():
    X, y = blobs()
    X[3, 1] = -1e20  # its square overflows float32 in training (BatchNorm's variance)
    message = "too large for the network.*row 3, column 1, .*1e\\+20.*input_scaling="
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**FAST).fit(X, y)
    frame = pd.DataFrame(X, columns=list("abcd")).assign(colour=["red", "blue"] * 30)
    with pytest.raises(ValueError, match="row 3, column 'b'"):
        QCLMixClassifier(**FAST).fit(frame, y)
    # the robust scaling bounds every column: the same data trains
    fit_ok(X, y, input_scaling="robust_smooth_clip")


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"mixup_space": "latent"}, "mixup_space"),
        ({"device": 3}, "device"),
        ({"device": "tpu"}, "'device' parameter .* 'cuda:N'"),
        ({"device": "CPU"}, "'device' parameter"),
        ({"device": "cuda:x"}, "'device' parameter"),
        ({"batch_size": 1}, "'batch_size' parameter .* range \\[2, inf\\)"),
    ],
)
def test_invalid_parameters_are_named(params, message):
    X, y = blobs()
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**params).fit(X, y)
