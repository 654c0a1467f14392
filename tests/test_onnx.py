"""ONNX export of a fitted QCLMixClassifier, checked in onnxruntime.

Skipped where the ``onnx`` extra is not installed (CI's lowest-versions leg).
"""

import copy
import sys

import numpy as np
import pandas as pd
import pytest

onnxruntime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

from skl2onnx.common.data_types import FloatTensorType, StringTensorType  # noqa: E402
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn import (
    PAPER_PARAMS,
    QCLMixClassifier,
    onnx_inputs,
    register_onnx_converter,
    to_onnx,
)
from qclmix_sklearn.nn import QCLMixNet

TINY = dict(max_epochs=3, random_state=0)


def numeric_data(n=240, n_features=6, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features)).astype(np.float32)
    y = np.digitize(X[:, 0] + 0.5 * X[:, 1], np.linspace(-1, 1, n_classes + 1)[1:-1])
    return X, y


def run(onnx_model, X):
    """``(label, probabilities)`` of the graph on X, in onnxruntime."""
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["label", "probabilities"], onnx_inputs(onnx_model, X))


def assert_reproduces(model, X, onnx_model=None):
    """The graph's probabilities within 1e-5 of predict_proba, its labels those of predict."""
    onnx_model = to_onnx(model, X[:5]) if onnx_model is None else onnx_model
    label, proba = run(onnx_model, X)
    assert proba.dtype == np.float32 and proba.shape == (len(X), len(model.classes_))
    assert np.abs(proba - model.predict_proba(X)).max() <= 1e-5
    np.testing.assert_array_equal(label, model.predict(X))
    return label, proba


@pytest.fixture(scope="module")
def binary_ensemble():
    X, y = numeric_data()
    # one configuration: 3 members (the default portfolio's are tested below)
    return QCLMixClassifier(decision_rule="tuned", portfolio=None, **TINY).fit(X, y), X


def test_the_default_ensemble_with_tuned_offsets_reproduces_predict(binary_ensemble):
    model, X = binary_ensemble
    assert len(model.nets_) == 3
    onnx_model = to_onnx(model, X[:5])
    assert_reproduces(model, X, onnx_model)
    label, _ = run(onnx_model, X[:1])  # a single row
    assert label.tolist() == model.predict(X[:1]).tolist()
    # The QE gates' products by a vector run as products by a one-column matrix.
    shapes = {t.name: list(t.dims) for t in onnx_model.graph.initializer}
    constant_operands = [shapes[node.input[1]] for node in onnx_model.graph.node
                         if node.op_type == "MatMul" and node.input[1] in shapes]
    assert len(constant_operands) == 6 and all(len(s) == 2 for s in constant_operands)


def test_the_paper_network_multiclass_string_labels_and_offsets_that_move_labels():
    X, y = numeric_data(n_classes=3)
    labels = np.array(["low", "mid", "high"])[y]
    model = QCLMixClassifier(**TINY, **PAPER_PARAMS).fit(X, labels)
    assert len(model.nets_) == 1
    # Strong offsets, so that the decision differs from predict_proba's argmax.
    model.class_offsets_ = np.array([1.5, -1.0, 0.0])
    moved = model.predict(X) != model.classes_[model.predict_proba(X).argmax(axis=1)]
    assert moved.any()
    label, _ = assert_reproduces(model, X)
    assert label.dtype == object


def test_a_portfolios_weighted_members():
    X, y = numeric_data(n_classes=3)
    model = QCLMixClassifier(portfolio=[{}, {"class_weight": "balanced"}],
                             decision_rule="tuned", **TINY).fit(X, y)
    # Weights that the selection may or may not have given, unequal for sure.
    model.member_weights_ = np.linspace(1, 2, len(model.nets_)) / np.linspace(
        1, 2, len(model.nets_)).sum()
    model.class_offsets_ = np.array([0.5, -0.5, 0.0])
    assert_reproduces(model, X)


def test_input_scaling_and_the_periodic_embedding_are_in_the_graph():
    X, y = numeric_data(n_classes=3)
    X[:, 2] = 50 * X[:, 2] + 10  # a column the robust scaling changes
    model = QCLMixClassifier(input_scaling="robust_smooth_clip",
                             numerical_embedding="periodic", n_folds=2, **TINY).fit(X, y)
    assert_reproduces(model, X)


def test_the_members_feature_masks_are_in_the_graph():
    X, y = numeric_data(n_features=12)
    model = QCLMixClassifier(feature_selection="shadow", **TINY).fit(X, y)
    assert not model.selected_features_.all()  # some columns are masked
    assert_reproduces(model, X)


def mixed_frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    frame = pd.DataFrame({
        "num": rng.normal(size=n) + y,
        "holes": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
        "colour": pd.Categorical(rng.choice(["red", "blue", None], n)),
        "city": rng.choice(np.array(["a", "b", None], dtype=object), n),
        "flag": rng.random(n) < 0.3,
        "ints": rng.integers(0, 5, n),
    })
    return frame, y


def test_a_mixed_frame_with_categories_and_missing_values():
    frame, y = mixed_frame()
    model = QCLMixClassifier(**TINY).fit(frame, y)
    onnx_model = to_onnx(model, frame.head())
    assert [i.name for i in onnx_model.graph.input] == list(frame.columns)
    test = frame.copy()
    test.loc[:4, "city"] = "never seen"  # an unseen category: all zeros, as in fit's encoder
    test.loc[5:9, "holes"] = np.nan
    assert_reproduces(model, test, onnx_model)
    # NaN in a column that had none in fit: predict refuses it, the graph gives NaN.
    bad = frame.head(2).copy()
    bad.loc[0, "num"] = np.nan
    with pytest.raises(ValueError, match="had none in fit"):
        model.predict_proba(bad)
    _, proba = run(onnx_model, bad)
    assert np.isnan(proba[0]).all() and np.isfinite(proba[1]).all()


def test_a_frame_of_categorical_columns_only():
    frame, y = mixed_frame(n=60)
    frame = frame[["colour", "city"]]
    model = QCLMixClassifier(max_epochs=1, n_folds=None, random_state=0).fit(frame, y)
    assert_reproduces(model, frame)


def test_a_pipeline_with_a_scaler_in_front():
    X, y = numeric_data(n_classes=3)
    X = 3 * X.astype(np.float64) + 1
    pipeline = make_pipeline(StandardScaler(), QCLMixClassifier(**TINY)).fit(X, y)
    assert_reproduces(pipeline, X)
    # skl2onnx itself converts it once the converter is registered, by default
    # with its ZipMap: one {class: probability} per row.
    register_onnx_converter()
    direct = skl2onnx.to_onnx(pipeline, X[:5])
    session = onnxruntime.InferenceSession(direct.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    label, maps = session.run(None, onnx_inputs(direct, X))
    np.testing.assert_array_equal(label, pipeline.predict(X))
    proba = np.array([[row[c] for c in pipeline.classes_] for row in maps])
    assert np.abs(proba - pipeline.predict_proba(X)).max() <= 1e-5


def test_missing_packages_raise_an_import_error_saying_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # `import skl2onnx` fails
    with pytest.raises(ImportError, match=r"pip install 'qclmix-sklearn\[onnx\]'"):
        to_onnx(QCLMixClassifier(), np.zeros((2, 2)))


def test_unsupported_models_get_clear_errors(binary_ensemble):
    model, X = binary_ensemble
    with pytest.raises(TypeError, match="QCLMixClassifier or a Pipeline ending in one"):
        to_onnx(LogisticRegression().fit(X, model.predict(X)), X)
    with pytest.raises(NotFittedError):
        to_onnx(QCLMixClassifier(), X)
    with pytest.raises(ValueError, match="target_opset=17 is too old"):
        to_onnx(model, X, target_opset=17)
    with pytest.raises(ValueError, match="fitted on 6"):
        to_onnx(model, X[:, :4])

    class CustomNet(QCLMixNet):
        pass

    custom = copy.deepcopy(model)
    custom.nets_[1].module_.__class__ = CustomNet
    with pytest.raises(TypeError, match="QCLMixNet networks only.*CustomNet"):
        to_onnx(custom, X)
    floats = copy.deepcopy(model)
    floats.classes_ = np.array([0.5, 1.5])
    with pytest.raises(TypeError, match="integers or strings.*float64"):
        to_onnx(floats, X)


def test_a_categorical_column_must_be_a_string_input():
    frame, y = mixed_frame(n=60)
    model = QCLMixClassifier(max_epochs=1, n_folds=None, random_state=0).fit(frame, y)
    register_onnx_converter()
    inputs = [(name, (StringTensorType if name in ("city", "flag") else FloatTensorType)([None, 1]))
              for name in frame.columns]  # "colour" is categorical, declared float
    with pytest.raises(TypeError, match="column 2 is categorical"):
        skl2onnx.convert_sklearn(model, initial_types=inputs)
