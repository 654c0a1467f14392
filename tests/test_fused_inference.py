"""The folded one-pass prediction of an ensemble equals predicting member by member."""

import pickle

import joblib
import numpy as np
import pytest
import torch
from torch import nn

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn.ensemble import _ensemble, _fused_inference
from qclmix_sklearn.ensemble._fused_inference import FusedMembers, fused_mean_proba

FAST = dict(max_epochs=2, random_state=0, portfolio=None)  # one configuration: 3 members


def blobs(n, n_classes, n_features=5, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    centres = rng.normal(scale=1.5, size=(n_classes, n_features))
    return rng.normal(size=(n, n_features)) + centres[y], y


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    # Every test predicts a few hundred rows: fold them all, in uneven chunks.
    monkeypatch.setattr(_ensemble, "_FUSED_MIN_ROWS", 1)
    monkeypatch.setattr(_fused_inference, "_CHUNK", 37)


def member_by_member(model, X, offsets=None):
    """The per-member path: each member's ``_proba``, averaged."""
    return np.mean([model._proba(X, net, offsets=offsets) for net in model.nets_], axis=0)


def modules(model):
    return [net.module_ for net in model.nets_]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("use_entanglement", [True, False])
@pytest.mark.parametrize("use_attention", [True, False])
def test_fused_probabilities_and_predictions_equal_the_members(n_classes, use_entanglement,
                                                              use_attention):
    X, y = blobs(240, n_classes)
    model = QCLMixClassifier(use_entanglement=use_entanglement, use_attention=use_attention,
                             **FAST).fit(X, y)
    X_new, _ = blobs(300, n_classes, seed=1)
    X32 = X_new.astype(np.float32)
    assert FusedMembers.build(modules(model)) is not None  # the fast path applies
    expected = member_by_member(model, X_new)
    proba = model.predict_proba(X_new)
    np.testing.assert_array_equal(proba, fused_mean_proba(modules(model), X32))  # it was used
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), expected.argmax(axis=1))

    # predict with tuned offsets: added to each member's log-probabilities.
    model.class_offsets_ = np.linspace(-0.3, 0.4, n_classes)
    adjusted = member_by_member(model, X_new, offsets=model.class_offsets_)
    np.testing.assert_allclose(fused_mean_proba(modules(model), X32, model.class_offsets_),
                               adjusted, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X_new),
                                  model.classes_[adjusted.argmax(axis=1)])


def test_a_single_network_is_folded_too():
    X, y = blobs(200, 3)
    model = QCLMixClassifier(**{**FAST, **PAPER_PARAMS}).fit(X, y)
    assert len(model.nets_) == 1
    proba = fused_mean_proba(modules(model), X.astype(np.float32))
    np.testing.assert_allclose(proba, member_by_member(model, X), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])


@pytest.fixture(scope="module")
def fitted():
    X, y = blobs(240, 3)
    return QCLMixClassifier(**FAST).fit(X, y), X


class Doubling(nn.Module):
    def forward(self, x):
        return 2 * x


def test_an_unknown_layer_falls_back_to_the_members(fitted):
    model, X = fitted
    model = pickle.loads(pickle.dumps(model))
    for module in modules(model):
        module.encoder.insert(0, Doubling())
    assert FusedMembers.build(modules(model)) is None
    np.testing.assert_array_equal(model.predict_proba(X), member_by_member(model, X))


def test_logits_that_are_not_classifier_of_encoder_fall_back(fitted):
    # A network that composes its known layers differently fails the check
    # of each build against the modules' own logits.
    model, X = fitted
    model = pickle.loads(pickle.dumps(model))
    for module in modules(model):
        module.logits = lambda x, m=module: m.classifier(m.encoder(x / 2))
    fused = FusedMembers.build(modules(model))
    assert fused is not None
    assert not fused.matches(modules(model), torch.from_numpy(X[:8].astype(np.float32)))
    np.testing.assert_array_equal(model.predict_proba(X), member_by_member(model, X))


def test_a_layer_that_does_not_fold_falls_back(fitted):
    model, _ = fitted
    model = pickle.loads(pickle.dumps(model))
    for module in modules(model):
        module.encoder.insert(2, nn.Identity())  # not a layer of the logits: left out
    assert FusedMembers.build(modules(model)) is not None
    for module in modules(model):
        module.encoder.insert(2, Doubling())  # no affine map, no fold
    assert FusedMembers.build(modules(model)) is None


def test_a_network_that_does_not_list_its_logit_layers_falls_back(fitted):
    model, _ = fitted
    model = pickle.loads(pickle.dumps(model))
    for module in modules(model):
        module.logit_layers = None
    assert FusedMembers.build(modules(model)) is None


def test_batch_norm_without_running_statistics_falls_back(fitted):
    model, _ = fitted
    model = pickle.loads(pickle.dumps(model))
    norm = modules(model)[1].encoder[2][1]
    norm.running_mean = norm.running_var = None
    assert FusedMembers.build(modules(model)) is None


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_rows_that_overflow_the_members_are_still_refused(fitted, method):
    model, X = fitted
    X_new = X.copy()
    X_new[5, 1] = 1e20  # its attention score overflows float32 in the exact path
    fused = FusedMembers.build(modules(model))
    assert fused.is_safe(np.abs(X).max())
    assert not fused.is_safe(1e20)
    assert not fused.is_safe(np.nan)
    with pytest.raises(ValueError, match="X has values too large for the network.*row 5"):
        getattr(model, method)(X_new)


def test_non_finite_fused_logits_fall_back(fitted, monkeypatch):
    model, X = fitted
    monkeypatch.setattr(FusedMembers, "matches", lambda self, modules, rows: True)
    real = FusedMembers.logits

    def one_minus_inf(self, x):
        logits = real(self, x).clone()
        logits[0, 0, 0] = -np.inf  # leaves the softmax finite
        return logits

    monkeypatch.setattr(FusedMembers, "logits", one_minus_inf)
    assert fused_mean_proba(modules(model), X.astype(np.float32)) is None
    np.testing.assert_array_equal(model.predict_proba(X), member_by_member(model, X))


def test_round_trips_predict_the_same(fitted, tmp_path):
    model, X = fitted
    joblib.dump(model, tmp_path / "model.joblib")
    restored = [pickle.loads(pickle.dumps(model)), joblib.load(tmp_path / "model.joblib")]
    sio = pytest.importorskip("skops.io")
    sio.dump(model, tmp_path / "model.skops")
    restored.append(sio.load(tmp_path / "model.skops",
                             trusted=["qclmix_sklearn._classifier.QCLMixClassifier"]))
    for copy in restored:
        np.testing.assert_array_equal(copy.predict_proba(X), model.predict_proba(X))
        np.testing.assert_array_equal(copy.predict(X), model.predict(X))
        np.testing.assert_array_equal(copy.transform(X), model.transform(X))
