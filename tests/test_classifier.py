"""QCLMixClassifier inside the tools users already have, and what it learns."""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imb_pipeline
from sklearn.base import clone, is_classifier
from sklearn.datasets import load_digits, make_classification
from sklearn.dummy import DummyClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn import _classifier as classifier_module
from qclmix_sklearn.training._mixup import KNNMixup
from qclmix_sklearn.nn._feature_attention import FeatureSelfAttention
from qclmix_sklearn.nn._quantum_entanglement import QuantumEntanglement

FAST = dict(max_epochs=3, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, weights=[0.8, 0.2], random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def fitted(data):
    return QCLMixClassifier(**FAST).fit(*data)


def test_is_a_classifier_for_sklearn():
    assert is_classifier(QCLMixClassifier())


def test_fitted_attributes_and_outputs(fitted, data):
    X, y = data
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert set(fitted.predict(X)) <= set(fitted.classes_)
    # the defaults: a 3-member cross-fit ensemble, 8 embedding dimensions per member
    assert len(fitted.nets_) == 3 and fitted.class_offsets_.shape == (2,)
    assert fitted.transform(X).shape == (len(X), 24)
    assert fitted.n_features_in_ == 8
    assert (fitted.n_iter_ == 3).all()
    assert ((1 <= fitted.best_epoch_) & (fitted.best_epoch_ <= 3)).all()
    assert list(fitted.get_feature_names_out()) == [f"qclmixclassifier{i}" for i in range(24)]


def test_pipeline_and_grid_search_over_two_parameters(data):
    pipe = make_pipeline(StandardScaler(), QCLMixClassifier(**FAST))
    grid = {"qclmixclassifier__mixup": [True, False], "qclmixclassifier__loss_alpha": [0.5, 1.0]}
    search = GridSearchCV(pipe, grid, cv=2, scoring="f1_macro").fit(*data)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.predict(data[0]).shape == (len(data[0]),)


def test_cross_val_score_with_macro_f1(data):
    scores = cross_val_score(QCLMixClassifier(**FAST), *data, cv=3, scoring="f1_macro")
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_imbalanced_learn_pipeline_after_smote(data):
    pipe = make_imb_pipeline(StandardScaler(), SMOTE(random_state=0), QCLMixClassifier(**FAST))
    assert pipe.fit(*data).predict(data[0]).shape == (len(data[0]),)


def test_clone_of_a_fitted_model_is_unfitted_with_the_same_parameters(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "net_")


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads)])
def test_pickle_round_trip_gives_identical_predictions(fitted, data, dumps, loads):
    restored = loads(dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(data[0]), fitted.predict_proba(data[0]))
    assert hasattr(fitted, "net_")  # pickling must not strip the original


def test_joblib_round_trip_gives_identical_predictions(fitted, data, tmp_path):
    joblib.dump(fitted, tmp_path / "model.joblib")
    restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.transform(data[0]), fitted.transform(data[0]))


def test_skops_round_trip_loads_only_trusted_types(fitted, data, tmp_path):
    sio = pytest.importorskip("skops.io")
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == ["qclmix_sklearn._classifier.QCLMixClassifier"]
    restored = sio.load(path, trusted=untrusted)
    np.testing.assert_array_equal(restored.predict_proba(data[0]), fitted.predict_proba(data[0]))


def test_the_skops_trust_list_covers_a_model_fitted_on_categorical_columns(tmp_path):
    sio = pytest.importorskip("skops.io")
    pd = pytest.importorskip("pandas")
    from qclmix_sklearn import skops_trusted_types

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=60), "c": pd.Categorical(rng.choice(list("uvw"), 60))})
    X.loc[3, "x"] = np.nan  # the encoder's imputer and missing indicator are saved too
    y = np.arange(60) % 2
    fitted = QCLMixClassifier(max_epochs=2, random_state=0).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(fitted, path)
    assert set(sio.get_untrusted_types(file=path)) <= set(skops_trusted_types())
    restored = sio.load(path, trusted=skops_trusted_types())
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))


def test_random_state_gives_bit_identical_fits_and_spares_global_rngs(data):
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = QCLMixClassifier(**FAST).fit(*data).predict_proba(data[0])
    second = QCLMixClassifier(**FAST).fit(*data).predict_proba(data[0])
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state[1])
    other = QCLMixClassifier(max_epochs=3, random_state=1).fit(*data).predict_proba(data[0])
    assert not np.array_equal(first, other)


def test_string_labels_and_dataframes_with_column_names(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    labels = np.where(y == 1, "fraud", "normal")
    model = QCLMixClassifier(**FAST).fit(frame, labels)
    assert list(model.classes_) == ["fraud", "normal"]
    assert list(model.feature_names_in_) == list(frame.columns)
    assert set(model.predict(frame)) <= {"fraud", "normal"}
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame.rename(columns={"f0": "other"}))


def test_verbose_prints_the_epoch_log(data, capsys):
    QCLMixClassifier(max_epochs=2, verbose=1, random_state=0).fit(*data)
    out = capsys.readouterr().out
    assert "valid_f1" in out and "train_loss" in out


def test_early_stopping_and_last_epoch_options(data):
    stopped = QCLMixClassifier(max_epochs=60, n_iter_no_change=2, random_state=0).fit(*data)
    assert (stopped.n_iter_ < 60).all()  # every member stopped early
    last = QCLMixClassifier(**{**PAPER_PARAMS, "max_epochs": 3}, validation_fraction=None,
                            random_state=0).fit(*data)
    assert last.best_epoch_ == 3 and "valid_f1" not in last.net_.history[-1]


def test_validation_data_is_carved_from_the_training_data(data):
    model = QCLMixClassifier(**{**PAPER_PARAMS, "max_epochs": 1}, random_state=0).fit(*data)
    n_valid = sum(model.net_.history[-1, "batches", :, "valid_batch_size"])
    n_train = sum(model.net_.history[-1, "batches", :, "train_batch_size"])
    assert n_valid == 48 and n_train == 192


def test_learnable_centroids_are_optimised_with_the_network(fitted):
    centroids = fitted.net_.criterion_.focal_variance.centroids
    optimised = [p for group in fitted.net_.optimizer_.param_groups for p in group["params"]]
    assert any(p is centroids for p in optimised)


def _parts(model):
    """What the fitted model is made of: its layer types and its callbacks."""
    layers = [type(layer) for layer in model.net_.module_.modules()]
    return {
        "use_entanglement": layers.count(QuantumEntanglement),
        "use_attention": layers.count(FeatureSelfAttention),
        "mixup": sum(isinstance(cb, KNNMixup) for _, cb in model.net_.callbacks_),
    }


@pytest.mark.parametrize(
    "switch, n_parts", [("use_entanglement", 2), ("use_attention", 1), ("mixup", 1)]
)
def test_ablation_switches_remove_their_part_and_change_the_trained_model(data, switch, n_parts):
    full = QCLMixClassifier(**FAST).fit(*data)
    ablated = clone(full).set_params(**{switch: False}).fit(*data)
    assert _parts(full)[switch] == n_parts and _parts(ablated)[switch] == 0
    # the other parts stay
    assert {k: v for k, v in _parts(ablated).items() if k != switch} == {
        k: v for k, v in _parts(full).items() if k != switch
    }
    assert not np.array_equal(full.predict_proba(data[0]), ablated.predict_proba(data[0]))


def test_the_installed_mixup_is_configured_by_the_parameters_and_mixes(data):
    model = QCLMixClassifier(mixup_neighbors=3, mixup_alpha=0.4, mixup_space="embedding",
                             mixup_same_class=True, **FAST).fit(*data)
    mixup = dict(model.net_.callbacks_)["knn_mixup"]
    assert (mixup.n_neighbors, mixup.alpha, mixup.space, mixup.same_class) == (
        3, 0.4, "embedding", True)
    X = torch.from_numpy(data[0][:32].astype(np.float32))
    y = torch.from_numpy(data[1][:32])
    batch = X.clone()
    mixup.on_batch_begin(model.net_, batch=(batch, y), training=True)
    assert not torch.equal(batch, X)
    for c in (0, 1):  # same-class partners: each class's mixes stay in its own span
        rows = y == c
        lo, hi = X[rows].min(0).values, X[rows].max(0).values
        assert ((batch[rows] >= lo - 1e-5) & (batch[rows] <= hi + 1e-5)).all()


def test_cuda_device_without_a_gpu_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        QCLMixClassifier(device="cuda", **FAST).fit(*data)
    assert QCLMixClassifier(device="auto", **FAST).fit(*data).net_.device == "cpu"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_fit_and_predict(data):
    model = QCLMixClassifier(device="cuda", **FAST).fit(*data)
    assert model.predict_proba(data[0]).shape == (len(data[0]), 2)


def test_learns_an_imbalanced_one_vs_rest_digits_task():
    """Digit 8 vs rest (IR ~9, like the paper's optical_digits)."""
    X, y = load_digits(return_X_y=True)
    y = (y == 8).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    model = make_pipeline(StandardScaler(), QCLMixClassifier(max_epochs=30, random_state=0))
    model.fit(X_train, y_train)
    majority = DummyClassifier().fit(X_train, y_train).predict(X_test)
    baseline = f1_score(y_test, majority, average="macro")
    score = f1_score(y_test, model.predict(X_test), average="macro")
    assert baseline < 0.5
    assert score > 0.85


def test_paper_params_train_one_network_and_predict_its_argmax(data):
    X, y = data
    model = QCLMixClassifier(**PAPER_PARAMS, **FAST).fit(X, y)
    assert model.nets_ == [model.net_] and not model.class_offsets_.any()
    logits = model.net_.module_.logits(torch.from_numpy(X.astype(np.float32))).detach()
    np.testing.assert_array_equal(model.predict(X), logits.argmax(1).numpy())


def test_cross_fit_ensemble_averages_members_trained_on_complementary_folds(data):
    X, y = data
    model = QCLMixClassifier(n_folds=3, decision_rule="argmax", **FAST).fit(X, y)
    assert len(model.nets_) == 3 and model.net_ is model.nets_[0]
    assert model.best_epoch_.shape == (3,) and (model.n_iter_ == 3).all()
    held_out = [sum(net.history[-1, "batches", :, "valid_batch_size"]) for net in model.nets_]
    fitted_on = [sum(net.history[-1, "batches", :, "train_batch_size"]) for net in model.nets_]
    assert sum(held_out) == len(X)  # every row held out by exactly one member
    assert all(f + h == len(X) for f, h in zip(fitted_on, held_out))
    members = [model._proba(X, net) for net in model.nets_]
    np.testing.assert_allclose(model.predict_proba(X), np.mean(members, axis=0))
    assert not np.allclose(members[0], members[1])
    assert model.transform(X).shape == (len(X), 24)
    assert len(model.get_feature_names_out()) == 24


@pytest.mark.parametrize("n_folds, n_held_out", [(None, 48), (4, 240)])
def test_offsets_are_tuned_on_held_out_training_rows_only(data, monkeypatch, n_folds, n_held_out):
    seen = {}

    def spy(log_proba, y, **kwargs):
        seen.update(log_proba=log_proba, y=y)
        return np.array([0.0, 1.0])

    monkeypatch.setattr(classifier_module, "tune_class_offsets", spy)
    X, y = data
    model = QCLMixClassifier(n_folds=n_folds, decision_rule="tuned", **FAST).fit(X, y)
    assert seen["log_proba"].shape == (n_held_out, 2) and len(seen["y"]) == n_held_out
    np.testing.assert_array_equal(model.class_offsets_, [0.0, 1.0])


def _adjusted_members(model, X):
    """Each member's probabilities after adding the offsets to its log-probabilities."""
    adjusted = []
    for net in model.nets_:
        scores = np.log(model._proba(X, net)) + model.class_offsets_
        adjusted.append(np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True))
    return np.mean(adjusted, axis=0)


def test_tuned_offsets_act_on_each_members_scores_as_tuned(data, monkeypatch):
    # The offsets are tuned on single members' held-out log-probabilities, so
    # predict adds them to each member's, not to the members' (narrower) average.
    monkeypatch.setattr(classifier_module, "tune_class_offsets",
                        lambda log_proba, y, **kwargs: np.array([0, 0.1]))
    X, y = data
    # (the paper's widths: on these data the two rules then differ on some rows)
    model = QCLMixClassifier(n_folds=3, decision_rule="tuned", hidden_sizes=(64, 32),
                             portfolio=None, **FAST).fit(X, y)
    expected = _adjusted_members(model, X).argmax(1)
    np.testing.assert_array_equal(model.predict(X), expected)
    on_the_average = (np.log(model.predict_proba(X)) + model.class_offsets_).argmax(1)
    assert (on_the_average != expected).any()  # the two rules differ on these data


def test_out_of_fold_probabilities_come_from_the_member_that_held_each_row_out(data,
                                                                             monkeypatch):
    X, y = data
    parts, tuned_on = [], {}
    training_parts = QCLMixClassifier._training_parts

    def record_parts(self, *args, **kwargs):
        parts.extend(training_parts(self, *args, **kwargs))
        return parts

    def record_tuning_data(log_proba, y_, **kwargs):
        tuned_on.update(log_proba=log_proba, y=y_)
        return np.zeros(2)

    monkeypatch.setattr(QCLMixClassifier, "_training_parts", record_parts)
    monkeypatch.setattr(classifier_module, "tune_class_offsets", record_tuning_data)
    model = QCLMixClassifier(n_folds=3, decision_rule="tuned", **FAST).fit(X, y)
    held_out = [valid for _, valid in parts]
    np.testing.assert_array_equal(np.sort(np.concatenate(held_out)), np.arange(len(X)))
    start = 0
    for i, (fit_idx, valid_idx) in enumerate(parts):
        assert not np.intersect1d(fit_idx, valid_idx).size  # member i never saw them
        assert len(fit_idx) + len(valid_idx) == len(X)
        block = slice(start, start + len(valid_idx))
        start += len(valid_idx)
        np.testing.assert_array_equal(tuned_on["y"][block], y[valid_idx])
        own = np.log(model._proba(X[valid_idx], model.nets_[i]))
        np.testing.assert_allclose(tuned_on["log_proba"][block], own, rtol=1e-12)
        other = np.log(model._proba(X[valid_idx], model.nets_[(i + 1) % 3]))
        assert not np.allclose(tuned_on["log_proba"][block], other)


def test_tuned_decision_changes_the_decision_only():
    X, y = make_classification(n_samples=600, n_features=6, weights=[0.93], flip_y=0.05,
                               class_sep=0.6, random_state=0)
    # two epochs: members that under-predict the minority class out of fold
    argmax = QCLMixClassifier(n_folds=3, decision_rule="argmax", class_balance=0.0,
                              max_epochs=2, random_state=0).fit(X, y)
    tuned = clone(argmax).set_params(decision_rule="tuned").fit(X, y)
    assert not argmax.class_offsets_.any() and tuned.class_offsets_.any()
    np.testing.assert_array_equal(argmax.predict_proba(X), tuned.predict_proba(X))
    np.testing.assert_array_equal(tuned.predict(X), _adjusted_members(tuned, X).argmax(1))
    np.testing.assert_array_equal(argmax.predict(X), argmax.predict_proba(X).argmax(1))


def test_ensemble_survives_pickling(data):
    model = QCLMixClassifier(portfolio=None, n_folds=2, decision_rule="tuned", **FAST).fit(*data)
    restored = pickle.loads(pickle.dumps(model))
    assert len(restored.nets_) == 2 and restored.net_ is restored.nets_[0]
    np.testing.assert_array_equal(restored.predict_proba(data[0]), model.predict_proba(data[0]))
    np.testing.assert_array_equal(restored.class_offsets_, model.class_offsets_)


def test_data_too_small_for_the_folds_gets_one_network():
    X, y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 1])
    model = QCLMixClassifier(n_folds=5, decision_rule="tuned", **FAST).fit(X, y)
    assert len(model.nets_) == 1


def test_class_balance_sets_the_sampling_weights_of_every_member(data):
    X, y = data
    paper = QCLMixClassifier(**PAPER_PARAMS, **FAST).fit(X, y)
    assert paper.net_.get_params().get("iterator_train__sample_weight") is None
    balanced = QCLMixClassifier(class_balance=1.0, **FAST).fit(X, y)
    for net in balanced.nets_:
        weight = np.asarray(net.get_params()["iterator_train__sample_weight"])
        assert len(weight) == len(y) * 2 // 3  # the member's fitting rows
        # n_c ** -1 for a row of class c: each class's rows weigh 1 in all, so
        # both classes are drawn equally often
        values, group = np.unique(weight, return_inverse=True)
        assert len(values) == 2
        np.testing.assert_allclose(np.bincount(group, weights=weight), [1.0, 1.0])
    half = clone(balanced).set_params(class_balance=0.5).fit(X, y)
    assert not np.array_equal(balanced.predict_proba(X), half.predict_proba(X))


def test_mixup_same_class_is_installed_as_configured(data):
    paper = QCLMixClassifier(**PAPER_PARAMS, **FAST).fit(*data)
    same = clone(paper).set_params(mixup_same_class=True).fit(*data)
    assert dict(paper.net_.callbacks_)["knn_mixup"].same_class is False
    assert dict(same.net_.callbacks_)["knn_mixup"].same_class is True
    assert not np.array_equal(paper.predict_proba(data[0]), same.predict_proba(data[0]))
