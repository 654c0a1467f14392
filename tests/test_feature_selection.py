"""feature_selection='shadow': each member reads the columns that beat their shuffled copies."""

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn.ensemble import _ensemble
from qclmix_sklearn.ensemble._fused_inference import fused_mean_proba
from qclmix_sklearn.nn import FeatureMask, QCLMixNet
from qclmix_sklearn.preprocessing._shadow_selection import shadow_feature_mask

FAST = dict(max_epochs=3, hidden_sizes=(16, 8), random_state=0)
N_SIGNAL = 3


def signal_and_noise(n=300, n_noise=27, seed=0, interaction=True):
    """Three informative columns (an imbalanced binary target) followed by noise columns."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_SIGNAL + n_noise)).astype(np.float32)
    signal = X[:, 0] + (X[:, 1] * X[:, 2] if interaction else X[:, 1] + X[:, 2])
    return X, (signal > 1.0).astype(int)


# -- the selection -----------------------------------------------------------------
def test_the_informative_columns_are_kept_and_most_noise_dropped():
    X, y = signal_and_noise()
    mask = shadow_feature_mask(X, y, random_state=0)
    assert mask[:N_SIGNAL].all()  # one of them only through an interaction
    assert mask[N_SIGNAL:].mean() <= 0.2


def test_the_selection_is_reproducible_and_honours_row_weights():
    X, y = signal_and_noise(n=200)
    first = shadow_feature_mask(X, y, random_state=3)
    np.testing.assert_array_equal(first, shadow_feature_mask(X, y, random_state=3))
    # The forests fit the weighted rows: a zero weight takes a row out. Column 0 decides the
    # labels of the first half, column 1 those of the second.
    y = np.where(np.arange(len(y)) < 100, X[:, 0] > 0, X[:, 1] > 0).astype(int)
    first_half = (np.arange(len(y)) < 100).astype(float)
    np.testing.assert_array_equal(
        shadow_feature_mask(X, y, first_half, random_state=3)[:2], [True, False])
    np.testing.assert_array_equal(
        shadow_feature_mask(X, y, 1 - first_half, random_state=3)[:2], [False, True])


def test_every_column_is_kept_without_evidence():
    X = np.ones((40, 5), dtype=np.float32)  # no split anywhere: every importance is 0
    y = np.arange(40) % 2
    np.testing.assert_array_equal(shadow_feature_mask(X, y, random_state=0), [True] * 5)


# -- the mask layer ------------------------------------------------------------------
def test_the_mask_layer_forms_agree():
    layer = FeatureMask(4)
    layer.select([True, False, True, False])
    x = torch.randn(6, 4)
    np.testing.assert_array_equal(layer(x)[:, [1, 3]], 0)
    np.testing.assert_array_equal(layer(x)[:, [0, 2]], x[:, [0, 2]])
    masks = torch.tensor([[1.0, 0, 1, 0], [0, 1, 1, 1]])
    stacked = layer.forward_members(torch.stack([x, 2 * x]), {"mask": masks})
    np.testing.assert_array_equal(stacked[1], 2 * x * masks[1])
    matrix, vector = layer.affine_map()
    np.testing.assert_array_equal(x.double().numpy() @ matrix + vector, layer(x).double())


def test_a_network_without_a_mask_refuses_a_selection_and_reads_every_column():
    net = QCLMixNet(4, 2)
    assert net.selected_features().all()
    with pytest.raises(TypeError, match="feature_mask=True"):
        net.select_features([True] * 4)


# -- the classifier ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted():
    X, y = signal_and_noise(interaction=False)
    # one configuration (the default portfolio trains one without the selection beside it)
    return QCLMixClassifier(feature_selection="shadow", portfolio=None, **FAST).fit(X, y), X, y


def test_each_member_reads_only_its_selected_columns(fitted):
    model, X, _ = fitted
    assert model.selected_features_.shape == (3, X.shape[1])
    assert model.selected_features_[:, :N_SIGNAL].all()
    for net, selected in zip(model.nets_, model.selected_features_):
        np.testing.assert_array_equal(net.module_.selected_features(), selected)
    # A column no member reads changes no prediction; one they read does.
    unread = np.flatnonzero(~model.selected_features_.any(axis=0))
    assert len(unread) > 0
    changed = X.copy()
    changed[:, unread] = 1e3
    np.testing.assert_array_equal(model.predict_proba(changed), model.predict_proba(X))
    changed[:, 0] += 1
    assert not np.array_equal(model.predict_proba(changed), model.predict_proba(X))


def test_without_selection_there_is_no_mask(fitted):
    _, X, y = fitted
    model = QCLMixClassifier(portfolio=None, **FAST).fit(X, y)
    assert model.selected_features_ is None
    assert not any(isinstance(m, FeatureMask) for m in model.net_.module_.modules())


def test_each_member_selects_on_its_own_training_rows(fitted, monkeypatch):
    model, X, y = fitted
    seen = []

    def spy(X_fit, y_fit, sample_weight=None, random_state=None):
        seen.append(len(y_fit))
        return shadow_feature_mask(X_fit, y_fit, sample_weight, random_state)

    monkeypatch.setattr("qclmix_sklearn._classifier.shadow_feature_mask", spy)
    QCLMixClassifier(portfolio=None, feature_selection="shadow", **FAST).fit(X, y)
    assert seen == [200, 200, 200]  # 2 of 3 folds each, never the held-out fold
    seen.clear()
    QCLMixClassifier(feature_selection="shadow", **{**FAST, **PAPER_PARAMS}).fit(X, y)
    assert seen == [240]  # the single network's fitting part, not its validation rows


def test_the_folded_prediction_and_a_round_trip_keep_the_masks(fitted, monkeypatch):
    model, X, _ = fitted
    monkeypatch.setattr(_ensemble, "_FUSED_MIN_ROWS", 1)
    modules = [net.module_ for net in model.nets_]
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(proba, fused_mean_proba(modules, X))  # folded
    by_member = np.mean([model._proba(X, net) for net in model.nets_], axis=0)
    np.testing.assert_allclose(proba, by_member, rtol=1e-5, atol=1e-6)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)
    np.testing.assert_array_equal(restored.selected_features_, model.selected_features_)


def test_a_portfolio_chooses_between_every_column_and_the_selection(fitted):
    _, X, y = fitted
    model = QCLMixClassifier(portfolio=[{}, {"feature_selection": "shadow"}],
                             ensemble_selection=5, **FAST).fit(X, y)
    assert len(model.portfolio_weights_) == 2
    entries = np.repeat(np.flatnonzero(model.portfolio_weights_), 3)
    # The own configuration's members read every column (a mask of ones), the others select.
    assert model.selected_features_[entries == 0].all()
    assert not model.selected_features_[entries == 1].all(axis=1).any()
    restored = pickle.loads(pickle.dumps(model))  # every member rebuilt alike
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))


def test_the_default_is_that_portfolio_to_the_bit(fitted):
    # the stored rows of the portfolio variant are the default's (benchmarks/relabel_rows.py)
    _, X, y = fitted
    default = QCLMixClassifier(**FAST).fit(X, y)
    spelled_out = QCLMixClassifier(portfolio=[{}, {"feature_selection": "shadow"}],
                                   **FAST).fit(X, y)
    assert default.portfolio == "feature_selection"
    np.testing.assert_array_equal(default.predict_proba(X), spelled_out.predict_proba(X))
    np.testing.assert_array_equal(default.portfolio_weights_, spelled_out.portfolio_weights_)


def test_a_selecting_portfolio_survives_skops(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    from qclmix_sklearn import skops_trusted_types

    _, X, y = fitted
    model = QCLMixClassifier(portfolio=[{}, {"feature_selection": "shadow"}], **FAST).fit(X, y)
    sio.dump(model, tmp_path / "model.skops")
    restored = sio.load(tmp_path / "model.skops", trusted=skops_trusted_types())
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(restored.selected_features_, model.selected_features_)


def test_the_dev_scripts_shares_of_real_and_noise_columns_kept():
    spec = importlib.util.spec_from_file_location(
        "shadow_rule", Path(__file__).parents[1] / "benchmarks" / "dev" / "shadow_rule.py")
    shadow_rule = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shadow_rule)
    X, y = signal_and_noise(interaction=False)
    shares = shadow_rule.kept_shares(X, y, n_noise=X.shape[1] - N_SIGNAL)
    # The rule in use keeps every real column here; a stricter one never keeps more.
    assert shares[(0.9, 3)][0] == 1.0
    for (quantile, needed), (real, noise) in shares.items():
        stricter = shares[(1.0, needed)]
        assert stricter[0] <= real and stricter[1] <= noise
        assert shares[(quantile, 5)][1] <= noise
