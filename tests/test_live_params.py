"""Every training hyperparameter reaches the object it configures (issue 11)."""

import numpy as np
import pytest

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn.baselines import TorchMLPClassifier

# One network, one epoch: the configured objects are what the tests look at.
ONE_NET = dict(n_folds=None, max_epochs=1, random_state=0)


def data(n=48):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    return rng.normal(size=(n, 3)) + y[:, None], y


def fitted_net(**params):
    X, y = data()
    return QCLMixClassifier(**{**ONE_NET, **params}).fit(X, y).net_


def schedule(net):
    return dict(net.callbacks_)["lr_schedule"].lr_scheduler_


def test_lr_is_the_initial_rate_of_the_one_cycle_schedule():
    group = fitted_net(lr=1e-3, max_lr=2e-2).optimizer_.param_groups[0]
    assert group["initial_lr"] == pytest.approx(1e-3)
    assert group["min_lr"] == pytest.approx(1e-3 / 1e4)


def test_lr_is_the_constant_rate_without_max_lr():
    net = fitted_net(lr=3e-3, max_lr=None)
    assert "lr_schedule" not in dict(net.callbacks_)
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(3e-3)


def test_lr_changes_the_fit_when_max_lr_is_set():
    # The bug of issue 11: OneCycleLR overwrote lr, so these fits were bit-identical.
    slow, fast = fitted_net(lr=1e-4), fitted_net(lr=5e-3)
    slow_weights = [p.detach().numpy() for p in slow.module_.parameters()]
    fast_weights = [p.detach().numpy() for p in fast.module_.parameters()]
    assert not all(np.array_equal(a, b) for a, b in zip(slow_weights, fast_weights))


def test_lr_above_max_lr_is_refused():
    X, y = data()
    with pytest.raises(ValueError, match="must not exceed"):
        QCLMixClassifier(**ONE_NET, lr=0.1, max_lr=1e-2).fit(X, y)


def test_max_lr_is_the_peak_of_the_schedule():
    net = fitted_net(lr=1e-4, max_lr=5e-3)
    assert net.optimizer_.param_groups[0]["max_lr"] == pytest.approx(5e-3)
    assert schedule(net).total_steps == 1


def test_default_and_paper_schedules_are_the_ones_every_earlier_version_ran():
    # OneCycleLR(max_lr=1e-2) with torch's default div_factor=25 started at 4e-4.
    for params in ({}, PAPER_PARAMS):
        group = fitted_net(**{**params, **ONE_NET}).optimizer_.param_groups[0]
        assert group["initial_lr"] == 1e-2 / 25 and group["max_lr"] == 1e-2


def test_weight_decay_reaches_the_optimizer():
    assert fitted_net(weight_decay=0.03).optimizer_.param_groups[0]["weight_decay"] == 0.03


def test_baseline_lr_and_weight_decay_reach_the_optimizer():
    X, y = data()
    net = TorchMLPClassifier((4,), max_epochs=1, lr=2e-4, weight_decay=0.1,
                             random_state=0).fit(X, y).net_
    group = net.optimizer_.param_groups[0]
    assert group["initial_lr"] == pytest.approx(2e-4) and group["weight_decay"] == 0.1


@pytest.mark.parametrize("param, value, attribute", [
    ("temperature", 0.7, lambda c: c.metric.temperature),
    ("triplet_margin", 0.9, lambda c: c.metric.margin),
    ("focal_gamma", 1.5, lambda c: c.focal_variance.gamma),
    ("centroid_weight", 0.3, lambda c: c.focal_variance.beta),
    ("loss_alpha", 0.25, lambda c: c.alpha),
])
def test_loss_parameters_reach_the_criterion(param, value, attribute):
    assert attribute(fitted_net(**{param: value}).criterion_) == value


@pytest.mark.parametrize("metric_loss", [None, "pml"])
def test_temperature_and_margin_reach_pml_terms_too(metric_loss):
    criterion = fitted_net(temperature=0.4, triplet_margin=0.1, metric_loss=metric_loss).criterion_
    metric = criterion.metric
    supcon, triplet = (metric, metric) if metric_loss is None else metric.losses.values()
    assert supcon.temperature == 0.4 and triplet.margin == 0.1


@pytest.mark.parametrize("param, value, attribute", [
    ("mixup_alpha", 0.9, "alpha"),
    ("mixup_neighbors", 2, "n_neighbors"),
])
def test_mixup_parameters_reach_the_mixup_callback(param, value, attribute):
    mixup = dict(fitted_net(**{param: value}).callbacks_)["knn_mixup"]
    assert getattr(mixup, attribute) == value
