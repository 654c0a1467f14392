"""The 20 baselines: registry, shared smoke test, and the pieces they rely on."""

import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_wine
from sklearn.model_selection import ParameterGrid, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn.baselines import (
    ArgmaxProbaClassifier,
    GNNClassifier,
    LabelEncodedClassifier,
    SafeSMOTE,
    get_baseline,
    list_baselines,
)

ALL_NAMES = [name for names in list_baselines().values() for name in names]
TORCH_NAMES = list_baselines()["DL"] + list_baselines()["GNN"]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def wine():
    """Standardised wine data with string labels, split 70/30."""
    X, y = load_wine(return_X_y=True)
    y = np.array(["barolo", "grignolino", "barbera"])[y]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _cheap(name):
    estimator, grid = get_baseline(name, random_state=0)
    if name in TORCH_NAMES:
        estimator.set_params(max_epochs=3)
    return estimator, grid


def test_list_baselines_has_the_papers_20_models():
    groups = list_baselines()
    assert groups == {
        "ML": [
            "xgboost",
            "balanced_rf",
            "smote_svm",
            "decision_tree",
            "random_forest",
            "gradient_boosting",
            "logistic_regression",
            "knn",
        ],
        "DL": ["mlp", "resnet", "gru", "lstm", "bigru", "bilstm", "cnn"],
        "GNN": ["gcn", "graphsage", "gat", "gin", "jknet"],
    }
    groups["ML"].clear()  # a copy: callers cannot break the registry
    assert len(list_baselines()["ML"]) == 8


def test_unknown_baseline_names_the_known_ones():
    with pytest.raises(ValueError, match="Unknown baseline 'svm'.*smote_svm.*jknet"):
        get_baseline("svm")


@pytest.mark.parametrize("name", ALL_NAMES)
def test_grid_is_modest_and_settable(name):
    estimator, grid = get_baseline(name, random_state=0)
    points = list(ParameterGrid(grid))
    assert 2 <= len(points) <= (4 if name in TORCH_NAMES else 12)
    for point in points:
        clone(estimator).set_params(**point)
    if name in TORCH_NAMES:
        assert estimator.get_params()["max_epochs"] == 100


@pytest.mark.parametrize("name", ALL_NAMES)
def test_smoke_fit_predict_in_pipeline(name, wine):
    X_train, X_test, y_train, y_test = wine
    estimator, _ = _cheap(name)
    fitted = clone(estimator).fit(X_train, y_train)
    assert set(fitted.classes_) == set(y_train)
    y_pred = fitted.predict(X_test)
    assert y_pred.shape == y_test.shape
    assert set(y_pred) <= set(y_train)
    if hasattr(fitted, "predict_proba"):
        proba = fitted.predict_proba(X_test)
        assert proba.shape == (len(X_test), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
        np.testing.assert_array_equal(fitted.classes_[proba.argmax(axis=1)], y_pred)
    pipeline = make_pipeline(StandardScaler(), clone(estimator)).fit(X_train, y_train)
    assert pipeline.score(X_test, y_test) > 1 / 3  # better than chance even when cheap


@pytest.mark.parametrize("name", list_baselines()["ML"])
def test_ml_baselines_learn_wine(name, wine):
    # Fully trained classical models separate wine almost perfectly; a broken
    # run (the paper's majority-class RF, 0.01-F1 LR) would not.
    X_train, X_test, y_train, y_test = wine
    estimator, _ = get_baseline(name, random_state=0)
    assert estimator.fit(X_train, y_train).score(X_test, y_test) > 0.85


@pytest.mark.parametrize("name", ["xgboost", "mlp", "gcn"])
def test_random_state_makes_fits_reproducible(name, wine):
    X_train, X_test, y_train, _ = wine
    estimator, _ = _cheap(name)
    first = clone(estimator).fit(X_train, y_train)
    second = clone(estimator).fit(X_train, y_train)
    np.testing.assert_allclose(first.predict_proba(X_test), second.predict_proba(X_test))


def test_xgboost_keeps_original_noncontiguous_labels(wine):
    X_train, X_test, y_train, _ = wine
    codes = {"barolo": 10, "grignolino": -3, "barbera": 7}
    y_int = np.array([codes[label] for label in y_train])
    estimator, _ = get_baseline("xgboost", random_state=0)
    estimator.set_params(class_weight="balanced").fit(X_train, y_int)
    np.testing.assert_array_equal(estimator.classes_, [-3, 7, 10])
    assert set(estimator.predict(X_test)) <= {-3, 7, 10}


def test_label_encoded_classifier_rejects_a_single_class():
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="at least 2 classes"):
        LabelEncodedClassifier(LogisticRegression()).fit(np.eye(3), ["a", "a", "a"])


class _RecordsX(ClassifierMixin, BaseEstimator):
    """Predicts the first class; ``seen_`` lists the type of each X it was given."""

    def fit(self, X, y):
        self.seen_ = [type(X)]
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        self.seen_.append(type(X))
        return np.zeros(len(X), dtype=int)

    def predict_proba(self, X):
        self.seen_.append(type(X))
        return np.eye(len(self.classes_))[np.zeros(len(X), dtype=int)]


@pytest.mark.parametrize(
    "wrapper, passed_on",
    # ArgmaxProbaClassifier checks X but hands on what it was given (a DataFrame stays one);
    # LabelEncodedClassifier hands on its checked array, which the stored XGBoost fits saw.
    [(ArgmaxProbaClassifier, pd.DataFrame), (LabelEncodedClassifier, np.ndarray)],
)
def test_label_encoding_wrappers_pass_on_X_as_documented(wrapper, passed_on):
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    fitted = wrapper(_RecordsX()).fit(X, ["v", "u", "v", "u"])
    np.testing.assert_array_equal(fitted.predict(X), ["u"] * 4)
    assert fitted.predict_proba(X).shape == (4, 2)
    assert fitted.estimator_.seen_ == [passed_on] * 3


def test_safe_smote_handles_classes_of_one_and_two_samples():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(23, 4))
    y = np.array([0] * 20 + [1] * 2 + [2])
    X_res, y_res = SafeSMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [20, 20, 20]
    # The single sample can only be repeated; the pair is interpolated on its segment.
    np.testing.assert_allclose(X_res[y_res == 2], np.tile(X[22], (20, 1)))
    a, b = X[20], X[21]
    t = (X_res[y_res == 1] - a) @ (b - a) / ((b - a) @ (b - a))
    np.testing.assert_allclose(X_res[y_res == 1], a + np.outer(t, b - a), atol=1e-10)
    assert ((t >= -1e-12) & (t <= 1 + 1e-12)).all()


def test_smote_svm_survives_grid_search_folds_with_tiny_classes():
    from sklearn.model_selection import GridSearchCV

    rng = np.random.RandomState(0)
    X = rng.normal(size=(46, 3))
    y = np.array([0] * 40 + [1] * 3 + [2] * 3)
    X[y == 1] += 3
    X[y == 2] -= 3
    estimator, grid = get_baseline("smote_svm", random_state=0)
    search = GridSearchCV(estimator, grid, cv=3, scoring="f1_macro", error_score="raise")
    assert search.fit(X, y).best_score_ > 0.5


# -- GNN honesty ----------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted_gnns(wine):
    X_train, _, y_train, _ = wine
    return {
        conv: GNNClassifier(conv, max_epochs=5, random_state=0).fit(X_train, y_train)
        for conv in ["gcn", "sage", "gat", "gin", "jknet"]
    }


@pytest.mark.parametrize("conv", ["gcn", "sage", "gat", "gin", "jknet"])
def test_gnn_prediction_of_a_sample_ignores_the_other_test_rows(conv, fitted_gnns, wine):
    _, X_test, _, _ = wine
    gnn = fitted_gnns[conv]
    alone = np.vstack([gnn.predict_proba(X_test[i:i + 1]) for i in range(len(X_test))])
    together = gnn.predict_proba(X_test)
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)
    # Replace every other test row by something wild: row 0 must not notice.
    X_other = X_test.copy()
    X_other[1:] = np.random.RandomState(1).normal(scale=5, size=X_other[1:].shape)
    np.testing.assert_allclose(
        gnn.predict_proba(X_other)[0], together[0], rtol=1e-5, atol=1e-6
    )


def test_gnn_graph_holds_only_the_fitting_part_of_the_training_data(wine):
    X_train, _, y_train, _ = wine
    gnn = GNNClassifier(max_epochs=2, validation_fraction=0.25, random_state=0)
    gnn.fit(X_train, y_train)
    n_fit = len(X_train) - int(np.ceil(0.25 * len(X_train)))
    assert gnn.X_graph_.shape == (n_fit, X_train.shape[1])
    edges = gnn.edge_index_
    assert edges.max() < n_fit and (edges[0] != edges[1]).all()
    # Symmetric: every edge also appears reversed.
    assert set(map(tuple, edges.T)) == set(map(tuple, edges[::-1].T))
    assert 1 <= gnn.best_epoch_ <= gnn.n_iter_ == 2


def test_gnn_without_torch_geometric_says_how_to_install(monkeypatch, wine):
    X_train, _, y_train, _ = wine
    for module in [m for m in sys.modules if m.startswith("torch_geometric")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    with pytest.raises(ImportError, match=r"pip install 'qclmix-sklearn\[gnn\]'"):
        get_baseline("gcn")
    with pytest.raises(ImportError, match="gnn extra"):
        GNNClassifier(max_epochs=1).fit(X_train, y_train)
