"""pytorch-metric-learning losses and miners as the metric part of the hybrid loss."""

import pickle

import numpy as np
import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners
from sklearn.base import clone

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn import _classifier as classifier_module
from qclmix_sklearn.losses import HybridLoss, SupConTripletLoss

ONE_NET = dict(n_folds=None, max_epochs=1, random_state=0)


def batch(seed, n=64, n_classes=3):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, n_classes, generator=generator)
    embedding = torch.randn(n, 8, generator=generator)
    return logits, embedding, torch.randint(0, n_classes, (n,), generator=generator)


def data(n=48):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    return rng.normal(size=(n, 3)) + y[:, None], y


def criterion(**params):
    torch.manual_seed(0)  # the same centroids for every criterion
    return QCLMixClassifier(**params)._build_criterion(3)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("group_size", [None, 16])
def test_the_builtin_default_equals_pmls_own_objects(seed, group_size):
    built_in = criterion(group_size=group_size)
    pml = criterion(group_size=group_size, metric_loss="pml")
    assert isinstance(built_in.metric, SupConTripletLoss)
    supcon, triplet = pml.metric.losses["supcon"], pml.metric.losses["triplet"]
    assert isinstance(supcon, pml_losses.SupConLoss) and supcon.temperature == 0.2
    assert isinstance(triplet, pml_losses.TripletMarginLoss) and triplet.margin == 0.5
    assert list(pml.metric.miners) == ["triplet"]
    assert isinstance(pml.metric.miners["triplet"], pml_miners.MultiSimilarityMiner)
    logits, embedding, target = batch(seed)
    expected = pml((logits, embedding), target)
    assert built_in((logits, embedding), target).item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_pml_loss_and_miner_make_the_metric_part():
    loss, miner = pml_losses.NTXentLoss(temperature=0.1), pml_miners.MultiSimilarityMiner()
    hybrid = criterion(metric_loss=loss, miner=miner, loss_alpha=0.3)
    assert hybrid.alpha == 0.3
    (own_loss,), (own_miner,) = hybrid.metric.losses, hybrid.metric.miners
    # fresh copies: a fit never trains or mutates the estimator's own objects
    assert own_loss is not loss and own_loss.temperature == 0.1
    assert own_miner is not miner and isinstance(own_miner, pml_miners.MultiSimilarityMiner)
    logits, embedding, target = batch(0)
    expected = 0.3 * hybrid.focal_variance(logits, embedding, target) + 0.7 * loss(
        embedding, target, miner(embedding, target))
    assert hybrid((logits, embedding), target).item() == pytest.approx(expected.item(), rel=1e-6)


def test_a_pml_loss_with_group_size_averages_the_groups():
    hybrid = criterion(metric_loss=pml_losses.MultiSimilarityLoss(), group_size=16)
    logits, embedding, target = batch(1, n=40)
    loss = pml_losses.MultiSimilarityLoss()
    metric = torch.stack([loss(embedding[i:j], target[i:j]) for i, j in [(0, 16), (16, 32),
                                                                         (32, 40)]]).mean()
    expected = 0.5 * hybrid.focal_variance(logits, embedding, target) + 0.5 * metric
    assert hybrid((logits, embedding), target).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("metric_loss", [None, "pml"])
def test_a_pml_miner_feeds_the_triplet_term_of_pmls_own_objects(metric_loss):
    miner = pml_miners.MultiSimilarityMiner(epsilon=0.3)
    hybrid = criterion(miner=miner, metric_loss=metric_loss, temperature=0.3)
    logits, embedding, target = batch(2)
    metric = (pml_losses.SupConLoss(temperature=0.3)(embedding, target)
              + pml_losses.TripletMarginLoss(margin=0.5)(embedding, target,
                                                         miner(embedding, target)))
    expected = 0.5 * hybrid.focal_variance(logits, embedding, target) + 0.5 * metric
    assert hybrid((logits, embedding), target).item() == pytest.approx(expected.item())
    # the same terms as the built-in one's, with its miner's epsilon
    built_in = HybridLoss(hybrid.focal_variance, SupConTripletLoss(0.3, 0.5, epsilon=0.3))
    value = built_in((logits, embedding), target)
    assert value.item() == pytest.approx(expected.item(), rel=1e-5)


def test_estimators_with_pml_objects_clone_and_fit_on_fresh_copies():
    loss = pml_losses.ProxyAnchorLoss(num_classes=2, embedding_size=8)
    proxies = loss.proxies.detach().clone()
    model = QCLMixClassifier(**{**ONE_NET, "n_folds": 2}, metric_loss=loss)
    copy = clone(model)
    assert copy.metric_loss is not loss and isinstance(copy.metric_loss, pml_losses.ProxyAnchorLoss)
    X, y = data()
    model.fit(X, y)
    members = [net.criterion_.metric for net in model.nets_]
    assert members[0] is not members[1] and all(m is not loss for m in members)
    # the members trained their own proxies; the estimator's parameter is untouched
    assert not torch.equal(members[0].proxies.detach(), proxies)
    assert torch.equal(loss.proxies.detach(), proxies)
    assert copy.fit(X, y).predict(X).shape == y.shape


@pytest.mark.parametrize("metric_loss", ["pml", pml_losses.NTXentLoss(temperature=0.1),
                                         pml_losses.MultiSimilarityLoss()])
def test_fits_with_pml_metric_losses_predict(metric_loss):
    X, y = data()
    model = QCLMixClassifier(**ONE_NET, metric_loss=metric_loss).fit(X, y)
    assert np.isfinite(model.predict_proba(X)).all()


def test_an_unknown_metric_loss_is_named():
    X, y = data()
    with pytest.raises(ValueError, match="metric_loss"):
        QCLMixClassifier(**ONE_NET, metric_loss="ntxent").fit(X, y)


@pytest.mark.parametrize("loss, message", [
    (pml_losses.ProxyAnchorLoss(num_classes=2, embedding_size=16),
     "metric_loss=ProxyAnchorLoss.*8-d embeddings.*labels 0..2.*mat1 and mat2.*embedding_size=8"),
    (pml_losses.ProxyAnchorLoss(num_classes=2, embedding_size=8),  # 3 classes below
     "metric_loss=ProxyAnchorLoss.*num_classes=3"),
])
def test_a_pml_loss_built_for_another_embedding_or_fewer_classes_is_named(loss, message):
    X, y = data()
    y[::3] = 2
    with pytest.raises(ValueError, match=message):
        QCLMixClassifier(**ONE_NET, metric_loss=loss).fit(X, y)


@pytest.mark.parametrize("metric_loss", [None, "pml"])
def test_a_triplet_miner_feeds_pmls_triplet_loss(metric_loss):
    X, y = data()
    miner = pml_miners.TripletMarginMiner()
    model = QCLMixClassifier(portfolio=None, **ONE_NET, miner=miner,
                             metric_loss=metric_loss).fit(X, y)
    assert model.n_iter_ == 1 and np.isfinite(model.predict_proba(X)).all()


class WideMiner(torch.nn.Module):
    """A miner built for 16-d embeddings."""

    def forward(self, embedding, labels):
        return pml_miners.MultiSimilarityMiner()(embedding @ torch.ones(16, 16), labels)


def test_a_miner_that_fails_on_the_embeddings_is_named():
    X, y = data()
    with pytest.raises(ValueError, match="miner=WideMiner.*8-d embeddings"):
        QCLMixClassifier(**ONE_NET, miner=WideMiner()).fit(X, y)


class RandomPairMiner(torch.nn.Module):
    """pml's MultiSimilarityMiner with an epsilon drawn from torch's global generator."""

    def forward(self, embedding, labels):
        epsilon = float(torch.rand(1))
        return pml_miners.MultiSimilarityMiner(epsilon=epsilon)(embedding, labels)


@pytest.mark.parametrize("make_params", [
    lambda: {"miner": RandomPairMiner()},  # the trial must not draw from the global generator
    lambda: {"metric_loss": pml_losses.CrossBatchMemory(pml_losses.NTXentLoss(), 8, 128)},
], ids=["random miner", "stateful loss"])  # nor fill the memory of a stateful loss
def test_the_trial_of_the_pml_objects_leaves_a_valid_fit_unchanged(make_params, monkeypatch):
    X, y = data()
    checked = QCLMixClassifier(**ONE_NET, **make_params()).fit(X, y).predict_proba(X)
    monkeypatch.setattr(classifier_module, "check_metric_parts", lambda *args: None)
    unchecked = QCLMixClassifier(**ONE_NET, **make_params()).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(checked, unchecked)


def skops_round_trip(model):
    from qclmix_sklearn import skops_trusted_types

    sio = pytest.importorskip("skops.io")
    saved = sio.dumps(model)
    # beyond this package's types, only the pml objects' own (and the torch types they hold)
    untrusted = set(sio.get_untrusted_types(data=saved)) - set(skops_trusted_types())
    assert all(name.startswith(("pytorch_metric_learning.", "torch.")) for name in untrusted)
    return sio.loads(saved, trusted=[*skops_trusted_types(), *untrusted])


@pytest.mark.parametrize("round_trip", [skops_round_trip, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["skops", "pickle"])
@pytest.mark.parametrize("make_loss", [
    lambda: pml_losses.NTXentLoss(temperature=0.1),  # holds a bound method of itself
    lambda: pml_losses.ProxyAnchorLoss(num_classes=2, embedding_size=8),  # holds tensors
], ids=["NTXentLoss", "ProxyAnchorLoss"])
def test_models_with_pml_objects_save_and_load_fitted_or_not(make_loss, round_trip):
    X, y = data()
    model = QCLMixClassifier(**ONE_NET, metric_loss=make_loss(),
                             miner=pml_miners.MultiSimilarityMiner(epsilon=0.2))
    restored = round_trip(model)
    loss = restored.metric_loss
    assert type(loss) is type(model.metric_loss) and restored.miner.epsilon == 0.2
    assert loss.state_dict().keys() == model.metric_loss.state_dict().keys()
    for name, value in model.metric_loss.state_dict().items():
        assert torch.equal(loss.state_dict()[name], value), name
    # the restored parameters train the same model
    expected = model.fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(restored.fit(X, y).predict_proba(X), expected)
    fitted = round_trip(model)
    np.testing.assert_array_equal(fitted.predict_proba(X), expected)
    assert model.metric_loss.training and hasattr(model, "net_")  # saving changed nothing
