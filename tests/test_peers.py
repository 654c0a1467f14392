"""The modern peers (CatBoost, LightGBM, RealMLP, TabM), the tuned decision rule, the wrappers."""

import importlib
import importlib.util

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import (
    ParameterGrid,
    StratifiedKFold,
    cross_val_predict,
    train_test_split,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_set_params,
    parametrize_with_checks,
)

from qclmix_sklearn.ensemble._class_offsets import tune_class_offsets
from qclmix_sklearn.baselines import (
    ArgmaxProbaClassifier,
    TunedOffsetsClassifier,
    get_baseline,
    list_baselines,
    list_peers,
)
from qclmix_sklearn.bench import ResultStore, Suite, run_suite
from qclmix_sklearn.bench._models import list_models

PEERS = ["catboost", "lightgbm", "realmlp", "tabm"]
LIBRARIES = ("catboost", "lightgbm", "pytabkit")
needs_peers = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in LIBRARIES),
    reason='the peers extra is not installed: pip install "qclmix-sklearn[peers]"',
)

# Few iterations / epochs and small TabM members: every fit takes about a second.
CHEAP = {
    "catboost": {"estimator__iterations": 30},
    "lightgbm": {"n_estimators": 30},
    "realmlp": {"n_epochs": 4},
    "tabm": {"n_epochs": 30, "tabm_k": 4, "d_block": 64},
}


def _cheap(name, random_state=0):
    estimator, grid = get_baseline(name, random_state=random_state)
    peer, tuned = name.removesuffix("_tuned"), name.endswith("_tuned")
    params = CHEAP[peer]
    if tuned:  # the tuned variant wraps the bare library model (no ArgmaxProbaClassifier)
        params = {f"estimator__{k.removeprefix('estimator__')}": v for k, v in params.items()}
    return estimator.set_params(**params), grid


@pytest.fixture(scope="module")
def data():
    """300 standardised rows, 3 imbalanced classes with string labels, split 2:1."""
    X, y = make_classification(
        300, 6, n_informative=4, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=0
    )
    y = np.array(["often", "sometimes", "rare"])[y]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=1 / 3, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_peers_are_a_family_of_their_own():
    assert list_peers() == [*PEERS, *(f"{name}_tuned" for name in PEERS)]
    assert not set(list_peers()) & {n for names in list_baselines().values() for n in names}
    assert list_models()["Peers"] == list_peers()


@needs_peers
@pytest.mark.parametrize("name", list_peers())
def test_peer_is_single_threaded_and_its_grid_settable(name):
    estimator, grid = get_baseline(name, random_state=3)
    params = estimator.get_params(deep=True)
    threads = {
        k: v
        for k, v in params.items()
        if k.split("__")[-1] in ("thread_count", "n_jobs", "n_threads")
    }
    assert threads and set(threads.values()) == {1}
    assert all(v == "cpu" for k, v in params.items() if k.split("__")[-1] == "device")
    copy = clone(estimator)
    assert copy.get_params(deep=False).keys() == estimator.get_params(deep=False).keys()
    if not hasattr(estimator, "estimator"):  # a wrapper's clone holds a new (equal) object
        assert copy.get_params() == params
    check_get_params_invariance(name, estimator)
    check_set_params(name, estimator)
    for point in ParameterGrid(grid or {}):
        clone(estimator).set_params(**point)
    if name in ("catboost", "lightgbm"):  # the library's class weighting is a grid point
        assert len(ParameterGrid(grid)) == 2
    else:
        assert grid is None


@needs_peers
@pytest.mark.parametrize("name", list_peers())
def test_peer_fits_string_labels_in_a_pipeline(name, data):
    X_train, X_test, y_train, y_test = data
    estimator, _ = _cheap(name)
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    assert list(pipeline.classes_) == ["often", "rare", "sometimes"]
    y_pred = pipeline.predict(X_test)
    assert y_pred.shape == y_test.shape and set(y_pred) <= set(y_train)
    proba = pipeline.predict_proba(X_test)
    assert proba.shape == (len(X_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    if not name.endswith("_tuned"):
        np.testing.assert_array_equal(pipeline.classes_[proba.argmax(axis=1)], y_pred)
    assert f1_score(y_test, y_pred, average="macro") > 0.4  # chance is about 0.3


@needs_peers
@pytest.mark.parametrize("name", PEERS)
def test_peer_is_reproducible_under_random_state(name, data):
    X_train, X_test, y_train, _ = data
    first = _cheap(name, random_state=0)[0].fit(X_train, y_train).predict_proba(X_test)
    again = _cheap(name, random_state=0)[0].fit(X_train, y_train).predict_proba(X_test)
    other = _cheap(name, random_state=1)[0].fit(X_train, y_train).predict_proba(X_test)
    np.testing.assert_array_equal(first, again)
    if name == "lightgbm":  # no randomness at its defaults: no bagging, every feature
        assert _cheap(name, random_state=1)[0].get_params()["random_state"] == 1
    else:
        assert not np.array_equal(first, other)  # the seed reaches the library


def _without(module, monkeypatch):
    real = importlib.import_module

    def import_module(name, *args, **kwargs):
        if name.split(".")[0] == module:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", import_module)


@pytest.mark.parametrize("name, module", [("catboost", "catboost"), ("realmlp_tuned", "pytabkit")])
def test_missing_extra_names_it(name, module, monkeypatch):
    _without(module, monkeypatch)
    with pytest.raises(ModuleNotFoundError, match=r'pip install "qclmix-sklearn\[peers\]"') as info:
        get_baseline(name)
    assert info.value.name == module


def test_missing_extra_is_stored_as_skipped(tmp_path, monkeypatch):
    _without("lightgbm", monkeypatch)
    X, y = make_classification(60, 4, random_state=0)
    suite = Suite(
        name="peers",
        description="a peer without its library",
        datasets=["toy"],
        models=["lightgbm"],
        protocol="cv",
        n_splits=2,
        seeds=(0,),
        timeout=0,
        load_dataset=lambda name, data_home=None, download=False: Bunch(data=X, target=y),
    )
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(suite, store, progress=False, log=lambda message: None)
        frame = store.results()
    assert summary.counts == {"skipped": 2}
    assert frame["error"].str.contains("qclmix-sklearn[peers]", regex=False).all()


@needs_peers
def test_modern_suite_has_the_peers_and_full_grids():
    from qclmix_sklearn.bench._suites import _BEYOND_BASELINES, SUITES

    modern, beyond = SUITES["modern"], SUITES["beyond"]
    assert modern.datasets == beyond.datasets
    assert (modern.protocol, modern.n_splits, modern.seeds) == ("cv", 3, (0, 1))
    assert {"qclmix", "qclmix_paper", *PEERS, "catboost_tuned", "realmlp_tuned"} <= set(
        modern.models
    )
    assert modern.models[-len(_BEYOND_BASELINES):] == _BEYOND_BASELINES == beyond.models[5:]
    # full grids and the baselines' own epochs: nothing is cut
    assert modern.max_grid_size is None and not modern.model_grid_sizes
    assert not modern.model_params and not modern.common_params
    assert not set(list_peers()) & set(SUITES["paper"].models)


@needs_peers
def test_catboost_wrapper_predicts_a_vector_of_original_labels(data):
    from catboost import CatBoostClassifier

    X_train, X_test, y_train, _ = data
    raw = CatBoostClassifier(iterations=10, verbose=0, allow_writing_files=False, thread_count=1)
    assert raw.fit(X_train, y_train).predict(X_test).ndim == 2  # why the wrapper exists
    wrapped = ArgmaxProbaClassifier(clone(raw)).fit(X_train, y_train)
    y_pred = wrapped.predict(X_test)
    assert y_pred.shape == (len(X_test),) and set(y_pred) <= set(y_train)


# --- the tuned decision rule, on a cheap classifier ---------------------------------------------

TUNED_DECISION_FAILS = {
    "check_classifiers_train": (
        "predict adds the tuned per-class offsets to the log-probabilities, so it is not the "
        "argmax of predict_proba (as for QCLMixClassifier with decision_rule='tuned')"
    ),
}


@parametrize_with_checks(
    [ArgmaxProbaClassifier(GaussianNB()), TunedOffsetsClassifier(GaussianNB(), random_state=0)],
    expected_failed_checks=lambda e: (
        TUNED_DECISION_FAILS if isinstance(e, TunedOffsetsClassifier) else {}
    ),
)
def test_wrappers_are_sklearn_compatible(estimator, check):
    check(estimator)


def _imbalanced(seed=3):
    X, y = make_classification(
        600, 5, n_informative=3, n_redundant=0, weights=[0.9, 0.1], class_sep=0.5, flip_y=0,
        random_state=seed,
    )
    labels = np.array(["common", "rare"])[y]
    return train_test_split(X, labels, test_size=0.5, stratify=y, random_state=0)


def test_offsets_are_tuned_on_out_of_fold_probabilities_then_refitted():
    X_train, X_test, y_train, _ = _imbalanced()
    tuned = TunedOffsetsClassifier(LogisticRegression(), cv=3, random_state=7)
    tuned.fit(X_train, y_train)
    y_encoded = (y_train == "rare").astype(int)
    folds = StratifiedKFold(3, shuffle=True, random_state=7)
    proba = cross_val_predict(
        LogisticRegression(), X_train, y_encoded, cv=folds, method="predict_proba"
    )
    expected = tune_class_offsets(np.log(proba), y_encoded)
    np.testing.assert_array_equal(tuned.class_offsets_, expected)
    refit = LogisticRegression().fit(X_train, y_encoded)
    np.testing.assert_allclose(tuned.predict_proba(X_test), refit.predict_proba(X_test))
    scores = np.log(refit.predict_proba(X_test)) + tuned.class_offsets_
    np.testing.assert_array_equal(tuned.predict(X_test), tuned.classes_[scores.argmax(axis=1)])


def test_tuned_offsets_raise_macro_f1_on_imbalanced_data():
    X_train, X_test, y_train, y_test = _imbalanced()
    argmax = LogisticRegression().fit(X_train, y_train)
    tuned = TunedOffsetsClassifier(LogisticRegression(), random_state=0).fit(X_train, y_train)
    assert np.any(tuned.class_offsets_ != 0)
    gain = f1_score(y_test, tuned.predict(X_test), average="macro") - f1_score(
        y_test, argmax.predict(X_test), average="macro"
    )
    assert gain > 0.1


def test_separable_data_keeps_argmax():
    X, y = make_classification(200, 4, n_informative=2, class_sep=5.0, flip_y=0, random_state=0)
    tuned = TunedOffsetsClassifier(LogisticRegression(), random_state=0).fit(X, y)
    np.testing.assert_array_equal(tuned.class_offsets_, 0.0)
    np.testing.assert_array_equal(tuned.predict(X), tuned.predict_proba(X).argmax(axis=1))


def test_class_smaller_than_the_folds_still_fits():
    X, y = make_classification(
        80, 4, n_informative=3, n_redundant=0, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    y[np.flatnonzero(y == 2)[2:]] = 0  # class 2 keeps 2 samples: 2 folds, one without it
    tuned = TunedOffsetsClassifier(LogisticRegression(), cv=3, random_state=0).fit(X, y)
    assert tuned.class_offsets_.shape == (3,) and np.isfinite(tuned.class_offsets_).all()
    assert tuned.predict_proba(X).shape == (80, 3)


def test_one_class_is_a_clear_error():
    with pytest.raises(ValueError, match="at least 2 classes"):
        TunedOffsetsClassifier(LogisticRegression()).fit(np.zeros((6, 2)), ["a"] * 6)
