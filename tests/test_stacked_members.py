"""Ensemble members trained together (member_training='stacked') are k separate fits."""

import copy
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.datasets import make_classification
from sklearn.metrics import f1_score
from skorch.callbacks import Callback
from torch import nn

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.training._stacked_members import StackedAdamW, StackedMembers
from qclmix_sklearn.losses import WeightedCrossEntropyLoss

STACKED = dict(member_training="stacked", random_state=0, portfolio=None)  # 3 members


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=150, n_features=6, n_informative=4, n_classes=3,
                               weights=[0.6, 0.3, 0.1], random_state=0)
    return X.astype(np.float32), y


def _members(k, build_module, build_criterion):
    modules, criteria = [], []
    for i in range(k):
        torch.manual_seed(i)
        modules.append(build_module())
        criteria.append(build_criterion())
    return modules, criteria


def _qclmix_members(k, n_features=6, n_classes=3, **params):
    est = QCLMixClassifier(**{"portfolio": None, **params})  # no mask layer
    est.classes_ = np.arange(n_classes)
    return _members(k, lambda: est._build_module(n_features, n_classes),
                    lambda: est._build_criterion(n_classes))


def _periodic_members(k):
    return _qclmix_members(k, numerical_embedding="periodic")


def _grouped_members(k):
    # batches of 24: two metric groups of 10 and a smaller last one of 4
    return _qclmix_members(k, group_size=10)


def _plain_members(k):
    # A plain torch network has no member form (forward_members): it runs through vmap.
    def module():
        return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.Softplus(),
                             nn.Linear(16, 3))
    return _members(k, module, WeightedCrossEntropyLoss)


@pytest.mark.parametrize("members", [_qclmix_members, _periodic_members, _grouped_members,
                                     _plain_members])
@pytest.mark.parametrize("weighted", [False, True])
def test_each_members_loss_and_gradients_are_those_of_the_separate_member(members, weighted):
    k, batch = 3, 24
    modules, criteria = members(k)
    stack = StackedMembers(modules, criteria)
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(k, batch, 6, generator=generator)
    y = torch.randint(0, 3, (k, batch), generator=generator)
    w = torch.rand(k, batch, generator=generator) if weighted else None
    losses = stack.losses(X, y, w)
    losses.sum().backward()
    for i, (module, criterion) in enumerate(zip(modules, criteria)):
        kwargs = {} if w is None else {"sample_weight": w[i]}
        expected = criterion(module(X[i]), y[i], **kwargs)
        expected.backward()
        torch.testing.assert_close(losses[i], expected, rtol=1e-5, atol=1e-6)
        # Rounding: batched products sum in their own order (~1e-6 of gradients of ~1).
        for name, p in module.named_parameters():
            torch.testing.assert_close(stack.module_params[name].grad[i], p.grad,
                                       rtol=1e-4, atol=1e-5)
        for name, p in criterion.named_parameters():
            torch.testing.assert_close(stack.criterion_params[name].grad[i], p.grad,
                                       rtol=1e-4, atol=1e-5)
        state = _member_state(stack, module, i)
        for name, b in module.named_buffers():  # BatchNorm's running statistics
            torch.testing.assert_close(state[name], b, rtol=1e-5, atol=1e-6)


def _member_state(stack, module, i):
    """Member i's weights and buffers, loaded into a copy of one of the modules."""
    copied = copy.deepcopy(module)
    stack.member_loader(i, copied)()
    return copied.state_dict()


@pytest.mark.parametrize("members, native", [
    (_qclmix_members, True), (_periodic_members, True), (_plain_members, False)])
def test_networks_with_a_member_form_run_natively_and_others_through_vmap(members, native):
    assert StackedMembers(*members(2))._native is native


def test_a_subset_of_members_steps_without_touching_the_others():
    modules, criteria = _qclmix_members(3)
    stack = StackedMembers(modules, criteria)
    before = [_member_state(stack, modules[0], i) for i in range(3)]
    X, y = torch.randn(2, 16, 6), torch.randint(0, 3, (2, 16))
    stack.losses(X, y, members=[0, 2]).sum().backward()
    assert all(leaf.grad[1].abs().max() == 0 for leaf in stack.leaves)
    assert all(leaf.grad[0].abs().max() > 0 for leaf in stack.leaves)
    untouched = _member_state(stack, modules[0], 1)
    for name in before[1]:
        torch.testing.assert_close(untouched[name], before[1][name], rtol=0, atol=0)
    moved = _member_state(stack, modules[0], 2)["encoder.2.1.running_mean"]
    assert not torch.equal(moved, before[2]["encoder.2.1.running_mean"])


def test_the_stacked_leaves_are_views_of_one_flat_tensor_and_gradient():
    modules, criteria = _qclmix_members(3)
    stack = StackedMembers(modules, criteria)
    assert sum(leaf.numel() for leaf in stack.leaves) == stack.flat.numel()
    flat, grad = (t.untyped_storage().data_ptr() for t in (stack.flat, stack.flat.grad))
    for leaf in stack.leaves:
        assert leaf.is_leaf and leaf.is_contiguous()
        assert leaf.untyped_storage().data_ptr() == flat
        assert leaf.grad.untyped_storage().data_ptr() == grad
    X, y = torch.randn(3, 16, 6), torch.randint(0, 3, (3, 16))
    stack.losses(X, y).sum().backward()
    assert stack.flat.grad.abs().sum() > 0
    first = stack.flat.grad.clone()
    stack.zero_grad()
    assert stack.flat.grad.abs().sum() == 0
    stack.losses(X, y).sum().backward()  # accumulated into the same flat gradient again
    torch.testing.assert_close(stack.flat.grad, first, rtol=0, atol=0)


def _stacked_leaves(rows_per_member):
    """Two parameters, of shapes (2, 3) and (4,), of k members, laid out as StackedMembers does."""
    blocks = [torch.stack([r[j] for r in rows_per_member]) for j in range(2)]
    sizes = [b.numel() for b in blocks]
    flat = torch.cat([b.reshape(-1) for b in blocks]).requires_grad_(True)
    flat.grad = torch.zeros_like(flat)
    leaves = []
    for b, data, grad in zip(blocks, flat.detach().split(sizes), flat.grad.split(sizes)):
        leaf = data.view(b.shape).detach().requires_grad_(True)
        leaf.grad = grad.view(b.shape)
        leaves.append(leaf)
    return flat, leaves


@pytest.mark.parametrize("schedule", ["shared", "own"])
def test_stacked_adamw_is_one_fused_adamw_per_member_exactly(schedule):
    # "shared": the members step together with one lr and beta1 (one kernel call
    # on the flat tensor); "own": each its lr and beta1 and, as member 1 sits out
    # every other step, its step count (one call per group of members).
    generator = torch.Generator().manual_seed(0)

    def draw():
        return [(torch.randn(2, 3, generator=generator), torch.randn(4, generator=generator))
                for _ in range(3)]

    rows = draw()
    flat, leaves = _stacked_leaves(rows)
    stacked = StackedAdamW(flat, leaves, weight_decay=1e-2)
    params = [[t.clone().requires_grad_(True) for t in r] for r in rows]
    separate = [torch.optim.AdamW(p, lr=1e-3, weight_decay=1e-2, fused=True) for p in params]
    for step in range(6):
        grads = draw()
        if schedule == "shared":
            lr, beta1, active = [2e-3 * (step + 1)] * 3, [0.95 - 0.02 * step] * 3, [True] * 3
        else:
            lr, beta1 = [1e-3 * (step + 1), 2e-3, 5e-4], [0.95 - 0.02 * step, 0.9, 0.85]
            active = [True, step % 2 == 0, True]
        with torch.no_grad():
            for j, leaf in enumerate(leaves):
                leaf.grad.copy_(torch.stack([g[j] for g in grads]))
        stacked.step(lr, beta1, active)
        for i, (p, opt) in enumerate(zip(params, separate)):
            if not active[i]:
                continue
            opt.param_groups[0]["lr"] = lr[i]
            opt.param_groups[0]["betas"] = (beta1[i], 0.999)
            for t, g in zip(p, grads[i]):
                t.grad = g.clone()
            opt.step()
    for i, p in enumerate(params):
        assert stacked.steps[i] == separate[i].state[p[0]]["step"]
        for leaf, t in zip(leaves, p):
            torch.testing.assert_close(leaf[i].detach(), t.detach(), rtol=0, atol=0)


@pytest.mark.parametrize("n_samples", [150, 98])
def test_stacked_fit_follows_the_sequential_fits(n_samples):
    # 98 rows, batch 32: members fit on 65, 65 and 66 rows, i.e. 2, 2 and 3
    # batches (65 drops its batch of one): members sit out steps.
    X, y = make_classification(n_samples=n_samples, n_features=6, random_state=1)
    X = X.astype(np.float32)
    params = dict(max_epochs=2, batch_size=32, random_state=0)
    sequential = QCLMixClassifier(member_training="sequential", **params).fit(X, y)
    stacked = QCLMixClassifier(member_training="stacked", **params).fit(X, y)
    np.testing.assert_array_equal(stacked.n_iter_, sequential.n_iter_)
    for mine, theirs in zip(stacked.nets_, sequential.nets_):
        # the same records: each member net's own callbacks wrote them
        assert mine.history[-1].keys() == theirs.history[-1].keys()
        assert [b.keys() for b in mine.history[-1, "batches"]] == [
            b.keys() for b in theirs.history[-1, "batches"]]
        np.testing.assert_array_equal(mine.history[-1, "batches", :, "event_lr"],
                                      theirs.history[-1, "batches", :, "event_lr"])
        for key in ("train_batch_size", "valid_batch_size", "train_loss"):
            a = [v for epoch in mine.history for v in
                 [b[key] for b in epoch["batches"] if key in b]]
            b = [v for epoch in theirs.history for v in
                 [b[key] for b in epoch["batches"] if key in b]]
            np.testing.assert_allclose(a, b, rtol=1e-4)


def test_each_member_keeps_its_own_best_epoch_by_its_own_weighted_macro_f1(data):
    X, y = data
    weight = np.random.default_rng(0).uniform(0.2, 2.0, len(y))
    model = QCLMixClassifier(max_epochs=6, n_iter_no_change=2, decision_rule="argmax",
                             **STACKED).fit(X, y, sample_weight=weight)
    parts = model._training_parts(y, int(np.random.RandomState(0).randint(
        np.iinfo(np.int32).max)))
    for i, (net, (_, held_out)) in enumerate(zip(model.nets_, parts)):
        scores = net.history[:, "valid_f1"]
        best = model.best_epoch_[i]
        assert best == int(np.argmax(scores)) + 1
        assert model.n_iter_[i] == len(scores)
        # stopped after 2 epochs without improvement, or ran them all
        assert model.n_iter_[i] - best == 2 or model.n_iter_[i] == 6
        # the kept weights are the best epoch's: they give its recorded score
        predicted = model._proba(X[held_out], net).argmax(axis=1)
        assert f1_score(y[held_out], predicted, average="macro",
                        sample_weight=weight[held_out]) == pytest.approx(scores[best - 1])


def test_stacked_fit_is_bit_identical_across_refits_and_survives_pickling(data):
    X, y = data
    first = QCLMixClassifier(max_epochs=2, **STACKED).fit(X, y)
    second = QCLMixClassifier(max_epochs=2, **STACKED).fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored.predict_proba(X), first.predict_proba(X))
    assert len(restored.nets_) == 3 and restored.net_ is restored.nets_[0]


def test_a_pytorch_metric_learning_loss_falls_back_to_sequential_fits(data, monkeypatch):
    from qclmix_sklearn import _classifier

    pml_losses = pytest.importorskip("pytorch_metric_learning.losses")
    monkeypatch.setattr(_classifier, "fit_stacked", None)  # never called
    X, y = data
    params = dict(max_epochs=1, random_state=0, metric_loss=pml_losses.ContrastiveLoss())
    stacked = QCLMixClassifier(member_training="stacked", **params).fit(X, y)
    sequential = QCLMixClassifier(**params).fit(X, y)
    np.testing.assert_array_equal(stacked.predict_proba(X), sequential.predict_proba(X))


@pytest.mark.parametrize("options", [
    dict(group_size=16),  # grouped mixup partners and metric terms
    dict(class_balance=0.0, mixup_same_class=False, mixup=False),
    dict(loss_alpha=1.0, class_weight="balanced"),
    dict(feature_selection="shadow"),  # each member's own input mask
])
def test_stacked_fit_follows_the_sequential_fits_with_other_options(data, options):
    X, y = data
    params = dict(max_epochs=1, batch_size=32, random_state=0, **options)
    sequential = QCLMixClassifier(member_training="sequential", **params).fit(X, y)
    stacked = QCLMixClassifier(member_training="stacked", **params).fit(X, y)
    for mine, theirs in zip(stacked.nets_, sequential.nets_):
        np.testing.assert_allclose(mine.history[-1, "batches", :, "train_loss"],
                                   theirs.history[-1, "batches", :, "train_loss"], rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_stacked_fit_on_cuda(data):
    X, y = data
    model = QCLMixClassifier(max_epochs=2, device="cuda", **STACKED).fit(X, y)
    assert next(model.net_.module_.parameters()).is_cuda
    assert model.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize("space", ["input", "embedding"])
def test_the_stacked_mixup_is_each_members_own_mixup(space):
    from types import SimpleNamespace

    from qclmix_sklearn.training._mixup import KNNMixup
    from qclmix_sklearn.training._stacked_fit import _mixed

    modules, criteria = _qclmix_members(3)
    stack = StackedMembers(modules, criteria)
    X = torch.randn(3, 20, 6, generator=torch.Generator().manual_seed(0))
    y = torch.randint(0, 3, (3, 20), generator=torch.Generator().manual_seed(1))
    group = []
    for i in range(3):
        mixup = KNNMixup(space=space, random_state=i, same_class=True).initialize()
        mixup.start_epoch(20, "cpu")
        group.append(SimpleNamespace(mixup=mixup))
    mixed = _mixed(stack, group, [0, 1, 2], X.clone(), y)
    for i, module in enumerate(modules):
        mixup = KNNMixup(space=space, random_state=i, same_class=True).initialize()
        mixup.on_epoch_begin(SimpleNamespace(device="cpu"), dataset_train=range(20))
        batch = X[i].clone()
        mixup.on_batch_begin(SimpleNamespace(module_=module, device="cpu"), batch=(batch, y[i]),
                             training=True)
        torch.testing.assert_close(mixed[i], batch, rtol=1e-5, atol=1e-6)


def test_verbose_falls_back_to_sequential_fits_with_their_epoch_log(data, capsys):
    X, y = data
    QCLMixClassifier(max_epochs=1, verbose=1, **STACKED).fit(X, y)
    assert capsys.readouterr().out.count("valid_f1") == 3  # one log header per member


@pytest.mark.parametrize("options, stacked", [
    ({}, True), ({"group_size": 16}, True), ({"mixup_space": "embedding"}, True),
    ({"verbose": 1}, False), ({"member_training": "sequential"}, False),
])
def test_the_members_are_trained_together_unless_a_fit_needs_the_sequential_path(
        data, monkeypatch, capsys, options, stacked):
    from qclmix_sklearn import _classifier

    calls = []
    fit_stacked = _classifier.fit_stacked
    monkeypatch.setattr(_classifier, "fit_stacked",
                        lambda *args, **kwargs: calls.append(1) or fit_stacked(*args, **kwargs))
    X, y = data
    QCLMixClassifier(**{**STACKED, "max_epochs": 1, **options}).fit(X, y)
    assert bool(calls) is stacked


class _EpochCounter(Callback):
    """A callback of the kind the stacked loop does not run: it counts the epochs it saw."""

    epochs = 0

    def on_epoch_end(self, net, **kwargs):
        type(self).epochs += 1


class _WithOwnCallback(QCLMixClassifier):
    def _extra_callbacks(self, seed):
        return [*super()._extra_callbacks(seed), ("counter", _EpochCounter())]


def test_a_callback_of_a_subclass_is_run_not_dropped_by_the_stacked_loop(data):
    # Each member trains as its plan says; a callback the stacked loop cannot
    # run sends the fit to the separate fits, where it sees every epoch.
    X, y = data
    _EpochCounter.epochs = 0
    model = _WithOwnCallback(max_epochs=2, **STACKED).fit(X, y)
    assert _EpochCounter.epochs == 2 * len(model.nets_) == 6


def test_the_perf_scripts_batch_counts_are_those_the_members_train():
    spec = importlib.util.spec_from_file_location(
        "member_steps", Path(__file__).parents[1] / "benchmarks" / "perf" / "member_steps.py")
    member_steps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(member_steps)
    # 98 rows, batch 32: members fit on 65, 65 and 66 rows, 2, 2 and 3 batches
    X, y = make_classification(n_samples=98, n_features=6, random_state=1)
    model = QCLMixClassifier(portfolio=None, max_epochs=1, batch_size=32, random_state=0).fit(X, y)
    trained = [net.history[0, "train_batch_count"] for net in model.nets_]
    assert sorted(member_steps.batches_per_epoch(model, y)) == sorted(trained) == [2, 2, 3]
