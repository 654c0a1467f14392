"""The shared training loop: threads, validation scoring, grouped mixup, history, CUDA."""

import numpy as np
import pytest
import torch

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier


def test_n_threads_is_set_during_fit_and_prediction_and_restored():
    seen = []

    class Spy(QCLMixClassifier):
        def _build_module(self, n_features, n_classes):
            seen.append(torch.get_num_threads())
            module = super()._build_module(n_features, n_classes)
            logits = module.logits
            module.logits = lambda x: seen.append(torch.get_num_threads()) or logits(x)
            return module

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        # every module build and every prediction (the held-out ones that tune the offsets in
        # fit included) of the ensemble's 3 members, trained one after the other (their
        # module's own logits run)
        sequential = dict(max_epochs=1, member_training="sequential", decision_rule="tuned",
                          random_state=0, portfolio=None)
        Spy(n_threads=1, **sequential).fit(X, y).predict(X)
        assert seen == [1] * 9 and torch.get_num_threads() == 2
        Spy(n_threads=None, **sequential).fit(X, y).predict(X)
        assert seen[9:] == [2] * 9 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_n_threads_is_set_while_members_train_stacked(monkeypatch):
    import qclmix_sklearn._classifier as classifier

    seen = []
    fit_stacked = classifier.fit_stacked

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return fit_stacked(*args, **kwargs)

    monkeypatch.setattr(classifier, "fit_stacked", spy)
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 2
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        QCLMixClassifier(portfolio=None, max_epochs=1, n_threads=1, random_state=0).fit(X, y)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_validation_scores_the_kept_weights():
    from sklearn.metrics import f1_score, log_loss
    from sklearn.utils import check_random_state

    from qclmix_sklearn._estimator._validation_split import validation_split

    rng = np.random.default_rng(0)
    y = np.arange(300) % 3
    X = rng.normal(size=(300, 5)) + y[:, None]
    # one network checkpointed on a validation split, predicting its argmax
    model = QCLMixClassifier(**{**PAPER_PARAMS, "max_epochs": 4}, random_state=0).fit(X, y)
    seed = int(check_random_state(0).randint(np.iinfo(np.int32).max))
    _, valid_idx = validation_split(y, 0.2, seed)
    history = model.net_.history
    assert sum(history[-1, "batches", :, "valid_batch_size"]) == len(valid_idx)
    recorded = history[model.best_epoch_ - 1, "valid_f1"]
    actual = f1_score(y[valid_idx], model.predict(X[valid_idx]), average="macro")
    assert recorded == pytest.approx(actual, abs=1e-12)
    # The validation loss is the cross-entropy of the kept weights' predictions.
    cross_entropy = log_loss(y[valid_idx], model.predict_proba(X[valid_idx]))
    assert history[model.best_epoch_ - 1, "valid_loss"] == pytest.approx(cross_entropy, rel=1e-5)


def test_grouped_mixup_takes_partners_within_each_group():
    from qclmix_sklearn.training._mixup import knn_mixup

    X = torch.randn(70, 3, generator=torch.Generator().manual_seed(0))
    X_mix, partner, lam = knn_mixup(X, n_neighbors=3, rng=np.random.default_rng(0), group_size=32)
    for start, stop in [(0, 32), (32, 64), (64, 70)]:
        group = X[start:stop]
        distances = torch.cdist(group, group)
        distances.fill_diagonal_(float("inf"))
        nearest = distances.topk(3, largest=False).indices + start
        for i in range(start, stop):
            assert partner[i] in nearest[i - start]
    torch.testing.assert_close(X_mix, lam[:, None] * X + (1 - lam[:, None]) * X[partner])


def test_batch_losses_reach_the_history_once_per_epoch():
    rng = np.random.default_rng(1)
    y = np.arange(200) % 2
    X = rng.normal(size=(200, 4)) + y[:, None]
    history = QCLMixClassifier(max_epochs=2, batch_size=32, random_state=0).fit(X, y).net_.history
    for epoch in history:
        losses = [b["train_loss"] for b in epoch["batches"] if "train_batch_size" in b]
        sizes = [b["train_batch_size"] for b in epoch["batches"] if "train_batch_size" in b]
        assert len(losses) == epoch["train_batch_count"] == 5
        assert all(np.isfinite(losses))
        assert epoch["train_loss"] == pytest.approx(np.average(losses, weights=sizes))


def test_every_training_step_runs_in_training_mode():
    # TrainingNet skips skorch's per-step train() walk when the net is in
    # training mode already; validation and the embedding-space mixup switch
    # to eval mode in between.
    modes = []

    class Spy(QCLMixClassifier):
        def _build_module(self, n_features, n_classes):
            module = super()._build_module(n_features, n_classes)
            forward = module.forward

            def spy(x):
                if torch.is_grad_enabled():  # a training step
                    modes.append(all(m.training for m in module.modules()))
                return forward(x)

            module.forward = spy
            return module

    rng = np.random.default_rng(2)
    y = np.arange(96) % 2
    X = rng.normal(size=(96, 4)) + y[:, None]
    Spy(**{**PAPER_PARAMS, "max_epochs": 2}, batch_size=16, mixup_space="embedding",
        random_state=0).fit(X, y)
    assert len(modes) == 2 * 5 and all(modes)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("params", [{}, {"batch_size": 128, "group_size": 32},
                                    {"mixup_space": "embedding"}])
def test_cuda_fit_and_predict_match_the_contract(params):
    rng = np.random.default_rng(0)
    y = np.arange(300) % 3
    X = rng.normal(size=(300, 6)) + y[:, None]
    model = QCLMixClassifier(device="cuda", max_epochs=2, random_state=0, **params).fit(X, y)
    assert next(model.net_.module_.parameters()).is_cuda
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3) and np.allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize("params, nets", [
    ({"portfolio": None}, ["StackedNet"]),                  # the members, stacked
    ({}, ["StackedNet"] * 2),                               # the default portfolio's two entries
    (PAPER_PARAMS, ["TrainingNet"]),                        # one network
    ({"member_training": "sequential", "portfolio": None}, ["TrainingNet"] * 3),
])
def test_every_network_trains_in_skorchs_fit_loop(monkeypatch, params, nets):
    from skorch import NeuralNet

    seen = []
    fit_loop = NeuralNet.fit_loop

    def spy(self, *args, **kwargs):
        seen.append(type(self).__name__)
        return fit_loop(self, *args, **kwargs)

    monkeypatch.setattr(NeuralNet, "fit_loop", spy)
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.arange(60) % 2
    QCLMixClassifier(**{**params, "max_epochs": 2, "random_state": 0}).fit(X, y)
    assert seen == nets


def test_stacked_members_that_all_stop_early_end_the_loop():
    X = np.random.default_rng(0).normal(size=(60, 3))
    y = np.arange(60) % 2  # noise: the held-out macro-F1 soon stops improving
    model = QCLMixClassifier(max_epochs=40, n_iter_no_change=2, random_state=0).fit(X, y)
    assert (model.n_iter_ < 40).all()
    assert all(len(net.history) == n for net, n in zip(model.nets_, model.n_iter_))


@pytest.mark.parametrize("patience", [2, 50])
def test_best_weights_stopping_is_skorchs_early_stopping(patience):
    from skorch import NeuralNetClassifier
    from skorch.callbacks import EarlyStopping
    from torch import nn

    from qclmix_sklearn.training._callbacks import BestWeightsStopping

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4)).astype(np.float32)
    y = (X[:, 0] + rng.normal(scale=2.0, size=120) > 0).astype(np.int64)

    def fitted(stopping):
        torch.manual_seed(0)
        module = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
        return NeuralNetClassifier(
            module, criterion=nn.CrossEntropyLoss, max_epochs=12, lr=0.3, batch_size=16,
            callbacks=[("stop", stopping(monitor="valid_acc", lower_is_better=False,
                                         patience=patience, load_best=True))],
            verbose=0).fit(X, y)

    ours, theirs = fitted(BestWeightsStopping), fitted(EarlyStopping)
    assert ours.history[:, "valid_acc"] == theirs.history[:, "valid_acc"]
    ours_stop, theirs_stop = dict(ours.callbacks_)["stop"], dict(theirs.callbacks_)["stop"]
    assert ours_stop.best_epoch_ == theirs_stop.best_epoch_ < len(ours.history)  # restored
    for name, tensor in ours.module_.state_dict().items():  # BatchNorm's statistics too
        assert torch.equal(tensor, theirs.module_.state_dict()[name])
    assert ours_stop.best_model_weights_._metadata == theirs_stop.best_model_weights_._metadata
