"""Mixed-type tabular data: categorical columns and missing values (issue 11)."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.preprocessing._tabular_encoding import TabularEncoder, categorical_mask
from qclmix_sklearn.baselines import GNNClassifier, TorchMLPClassifier

TINY = dict(max_epochs=2, random_state=0)


def mixed_frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    frame = pd.DataFrame({
        "num": rng.normal(size=n) + y,
        "holes": np.where(np.arange(n) % 7 == 0, np.nan, rng.normal(size=n)),
        "colour": pd.Categorical(np.where(y == 1, "red", "blue")),
        "city": np.array(["a", "b", "c", None] * (n // 4), dtype=object),
        "flag": np.arange(n) % 3 == 0,
    })
    return frame, y


def test_a_mixed_frame_with_nan_and_an_unseen_category_fits_and_predicts():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    assert list(model.feature_names_in_) == list(frame.columns) and model.n_features_in_ == 5
    test = frame.head(6).copy()
    test["city"] = ["z", "a", None, "b", "never seen", "c"]
    test.loc[0, "holes"] = np.nan
    proba = model.predict_proba(test)
    assert proba.shape == (6, 2) and np.isfinite(proba).all()
    assert model.predict(test).shape == (6,)
    assert model.transform(test).shape[0] == 6


def test_the_encoding_one_hot_encodes_categories_and_fills_missing_numbers():
    frame, _ = mixed_frame(8)
    X = frame.to_numpy(dtype=object)
    encoder = TabularEncoder(categorical_mask("from_dtype", frame))
    encoded = encoder.fit_transform(X)
    # num, holes (median-filled), holes-missing indicator, colour x2, city x4 (None own), flag x2
    assert encoded.shape == (8, 3 + 2 + 4 + 2) == (8, encoder.n_outputs_)
    holes = frame["holes"].to_numpy()
    assert encoded[0, 1] == np.nanmedian(holes) and encoded[0, 2] == 1.0
    assert encoded[1, 1] == holes[1] and encoded[1, 2] == 0.0
    assert np.array_equal(encoded[:, 0], frame["num"].to_numpy())
    unseen = X[:1].copy()
    unseen[0, 3] = "unseen"
    city = slice(5, 9)
    assert encoded[0, city].sum() == 1 and encoder.transform(unseen)[0, city].sum() == 0
    assert encoded[3, city].sum() == 1  # the missing city is a category of its own


def test_an_all_missing_column_is_zero_with_its_indicator_and_nullable_numbers_are_numbers():
    frame, y = mixed_frame()
    frame = frame.assign(empty=np.nan, counts=pd.array([1, None] * 30, dtype="Int64"))
    model = QCLMixClassifier(**TINY).fit(frame, y)
    encoder = model.feature_encoder_
    encoded = encoder.transform(frame.to_numpy(dtype=object))
    # num, holes, empty, counts, then the indicators of holes, empty and counts
    assert encoder.numeric_.tolist() == [0, 1, 5, 6] and encoder.missing_.tolist() == [1, 2, 3]
    assert (encoded[:, 2] == 0).all() and (encoded[:, 5] == 1).all()
    assert encoded[0, 3] == 1 and encoded[1, 3] == 1 and encoded[1, 6] == 1


def test_a_text_value_in_a_numeric_column_names_categorical_features():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    test = frame.head(3).astype({"num": object})
    test.loc[1, "num"] = "seven"
    with pytest.raises(ValueError, match="treated as numeric holds non-numeric.*'seven'"):
        model.predict(test)


def test_the_encoding_ignores_scikit_learns_global_pandas_output():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    with sklearn.config_context(transform_output="pandas"):
        pandas_model = QCLMixClassifier(**TINY).fit(frame, y)
        np.testing.assert_array_equal(pandas_model.predict_proba(frame),
                                      model.predict_proba(frame))


def test_complete_numeric_data_bypasses_the_encoder_and_trains_as_given():
    frame, y = mixed_frame()
    numeric = frame[["num"]].assign(other=frame["num"] * 2)
    model = QCLMixClassifier(**TINY).fit(numeric, y)
    assert model.feature_encoder_ is None
    as_array = QCLMixClassifier(**TINY, categorical_features=None).fit(numeric.to_numpy(), y)
    np.testing.assert_array_equal(model.predict_proba(numeric),
                                  as_array.predict_proba(numeric.to_numpy()))


def test_nan_at_predict_in_a_column_complete_in_fit_is_refused_clearly():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    test = frame.head(3).copy()
    test.loc[0, "num"] = np.nan
    with pytest.raises(ValueError, match="had none in fit"):
        model.predict(test)
    numeric = QCLMixClassifier(**TINY).fit(frame[["num"]], y)
    with pytest.raises(ValueError, match="training data had none"):
        numeric.predict(test[["num"]])


def test_inf_is_still_refused_in_mixed_data():
    frame, y = mixed_frame()
    frame.loc[2, "num"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        QCLMixClassifier(**TINY).fit(frame, y)


def test_sparse_input_is_still_refused_with_categorical_features_given():
    frame, y = mixed_frame()
    with pytest.raises(TypeError, match="[Ss]parse data was passed"):
        QCLMixClassifier(**TINY, categorical_features=[0]).fit(sp.csr_matrix(frame[["num"]]), y)


@pytest.mark.parametrize("spec", [[2, 3, 4], ["colour", "city", "flag"],
                                  [False, False, True, True, True], "from_dtype"])
def test_categorical_features_by_index_name_mask_or_dtype(spec):
    frame, _ = mixed_frame()
    assert categorical_mask(spec, frame).tolist() == [False, False, True, True, True]


def test_categorical_features_on_an_object_array_and_none():
    frame, y = mixed_frame()
    X = frame.to_numpy(dtype=object)
    assert categorical_mask("from_dtype", X) is None  # arrays carry no dtypes per column
    model = QCLMixClassifier(**TINY, categorical_features=[2, 3, 4]).fit(X, y)
    assert model.predict(X[:4]).shape == (4,)
    with pytest.raises(ValueError, match="categorical_features"):
        QCLMixClassifier(**TINY, categorical_features=None).fit(X, y)


@pytest.mark.parametrize("spec, message", [
    (["nope"], "unknown columns"), ([7], "indices"), ([True, False], "boolean mask"),
])
def test_bad_categorical_features_are_named(spec, message):
    frame, y = mixed_frame()
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**TINY, categorical_features=spec).fit(frame, y)


@pytest.mark.parametrize("times", [
    pd.date_range("2020-01-01", periods=60), pd.date_range("2020-01-01", periods=60, tz="UTC"),
    pd.timedelta_range("1D", periods=60), pd.period_range("2020-01", periods=60, freq="M"),
])
@pytest.mark.parametrize("with_categories", [False, True])
def test_a_date_or_time_column_is_refused_naming_it(times, with_categories):
    frame, y = mixed_frame()
    frame = frame if with_categories else frame[["num"]].copy()
    frame["when"] = times
    for categorical in ("from_dtype", ["when"]):
        with pytest.raises(ValueError, match="date or time column.*'when'.*convert them"):
            QCLMixClassifier(**TINY, categorical_features=categorical).fit(frame, y)
    # as strings, its values are categories like any other
    frame["when"] = frame["when"].astype(str)
    model = QCLMixClassifier(**TINY).fit(frame.head(8), y[:8])
    assert model.predict(frame.head(3)).shape == (3,)


def test_a_column_numeric_in_fit_and_a_date_at_predict_is_refused_naming_it():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame[["num", "holes"]], y)
    dated = frame[["num", "holes"]].assign(holes=pd.date_range("2020-01-01", periods=60))
    with pytest.raises(ValueError, match="date or time column.*'holes'"):
        model.predict(dated)


def test_an_encoded_model_survives_pickling():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(frame), model.predict_proba(frame))


@pytest.mark.parametrize("make", [lambda: TorchMLPClassifier((8,), **TINY),
                                  lambda: GNNClassifier(max_epochs=3, random_state=0)])
def test_baselines_take_mixed_frames_too(make):
    pytest.importorskip("torch_geometric")
    frame, y = mixed_frame()
    model = make().fit(frame, y)
    assert model.predict_proba(frame.head(5)).shape == (5, 2)
