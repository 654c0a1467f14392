"""The fast paths of issue 6 compute the same mathematics as the readable ones."""

import numpy as np
import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.miners import MultiSimilarityMiner
from skorch.dataset import Dataset

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier
from qclmix_sklearn._tensor_batches import TensorBatches
from qclmix_sklearn.losses import (
    FocalVarianceLoss,
    HybridLoss,
    MultiSimilarityMiner as MaskMiner,
    SupConLoss,
    TripletMarginLoss,
)
from qclmix_sklearn.losses._pair_masks import pair_masks
from qclmix_sklearn.nn import FeatureSelfAttention, QCLMixNet


def batch(seed, n=64, n_classes=3, dim=8):
    generator = torch.Generator().manual_seed(seed)
    embedding = torch.randn(n, dim, generator=generator)
    target = torch.randint(0, n_classes, (n,), generator=generator)
    return embedding, target


def value_and_grad(loss_fn, embedding, *args):
    leaf = embedding.clone().requires_grad_()
    value = loss_fn(leaf, *args)
    value.backward()
    grad = leaf.grad if leaf.grad is not None else torch.zeros_like(leaf)
    return value.item(), grad


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])  # 1: no positive... 64: hardly any
@pytest.mark.parametrize("mined", [True, False])
def test_triplet_loss_equals_pml_on_random_batches(seed, n_classes, mined):
    embedding, target = batch(seed, n_classes=n_classes)
    pairs = MultiSimilarityMiner()(embedding, target) if mined else None
    expected, expected_grad = value_and_grad(
        pml_losses.TripletMarginLoss(margin=0.5), embedding, target, pairs
    )
    value, grad = value_and_grad(TripletMarginLoss(margin=0.5), embedding, target, pairs)
    assert value == pytest.approx(expected, rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("margin", [0.0, 0.05, 2.5])
def test_triplet_loss_equals_pml_for_other_margins_and_batch_sizes(margin):
    for n in (2, 3, 17, 150):
        embedding, target = batch(n, n=n, n_classes=3)
        pairs = MultiSimilarityMiner()(embedding, target)
        expected = pml_losses.TripletMarginLoss(margin=margin)(embedding, target, pairs)
        value = TripletMarginLoss(margin=margin)(embedding, target, pairs)
        assert value.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])
@pytest.mark.parametrize("epsilon", [0.1, 0.5])
def test_miner_masks_are_pml_miner_pairs(seed, n_classes, epsilon):
    embedding, target = batch(seed, n_classes=n_classes)
    expected = pair_masks(target, MultiSimilarityMiner(epsilon=epsilon)(embedding, target))
    positive, negative = MaskMiner(epsilon=epsilon)(embedding, target)
    assert torch.equal(positive, expected[0]) and torch.equal(negative, expected[1])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])
@pytest.mark.parametrize("temperature", [0.1, 0.2])
def test_supcon_equals_pml_on_random_batches(seed, n_classes, temperature):
    embedding, target = batch(seed, n_classes=n_classes)
    expected, expected_grad = value_and_grad(
        pml_losses.SupConLoss(temperature=temperature), embedding, target
    )
    value, grad = value_and_grad(SupConLoss(temperature=temperature), embedding, target)
    assert value == pytest.approx(expected, rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


def test_mask_triplet_after_mask_miner_equals_pml_pipeline():
    for seed in range(5):
        embedding, target = batch(seed, n_classes=4)
        pml_pairs = MultiSimilarityMiner()(embedding, target)
        expected = pml_losses.TripletMarginLoss(margin=0.5)(embedding, target, pml_pairs)
        value = TripletMarginLoss(margin=0.5)(embedding, target, MaskMiner()(embedding, target))
        assert value.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-7)


def test_triplet_loss_is_zero_with_a_graph_when_no_triplet_violates():
    embedding = torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0]], requires_grad=True)
    value = TripletMarginLoss(margin=0.1)(embedding, torch.tensor([0, 0, 1]))
    value.backward()
    assert value.item() == 0.0 and torch.equal(embedding.grad, torch.zeros_like(embedding))


def test_triplet_loss_rejects_a_triplet_tuple():
    embedding, target = batch(0)
    with pytest.raises(ValueError, match="pairs must be"):
        TripletMarginLoss()(embedding, target, (target, target, target))


def readable_hybrid(logits, embedding, target, focal_variance, alpha=0.5):
    """Paper §3.2.3 with every metric part from pytorch-metric-learning."""
    pairs = MultiSimilarityMiner()(embedding, target)
    supcon = pml_losses.SupConLoss(temperature=0.2)(embedding, target)
    triplet = pml_losses.TripletMarginLoss(margin=0.5)(embedding, target, pairs)
    return alpha * focal_variance(logits, embedding, target) + (1 - alpha) * (supcon + triplet)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_classes", [1, 2, 4])
def test_hybrid_loss_equals_the_pml_composition(seed, n_classes):
    embedding, target = batch(seed, n_classes=n_classes)
    logits = torch.randn(64, 4, generator=torch.Generator().manual_seed(seed + 100))
    torch.manual_seed(seed)
    focal_variance = FocalVarianceLoss(4)
    hybrid = HybridLoss.paper(focal_variance)
    fast = hybrid((logits, embedding), target)
    expected = readable_hybrid(logits, embedding, target, focal_variance)
    assert fast.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("part", ["supcon", "miner", "triplet"])
def test_grouped_metric_parts_equal_pml_on_each_group(part):
    embedding, target = batch(7, n=5 * 32, n_classes=3)
    target[:32] = 1  # one single-class group
    groups, labels = embedding.unflatten(0, (5, 32)), target.unflatten(0, (5, 32))
    if part == "supcon":
        grouped = SupConLoss(temperature=0.2)(groups, labels)
        expected = [pml_losses.SupConLoss(temperature=0.2)(e, t) for e, t in zip(groups, labels)]
        torch.testing.assert_close(grouped, torch.stack(expected))
    elif part == "miner":
        positive, negative = MaskMiner()(groups, labels)
        for g, (e, t) in enumerate(zip(groups, labels)):
            expected = pair_masks(t, MultiSimilarityMiner()(e, t))
            assert torch.equal(positive[g], expected[0]) and torch.equal(negative[g], expected[1])
    else:
        grouped = TripletMarginLoss(0.5)(groups, labels, MaskMiner()(groups, labels))
        expected = [
            pml_losses.TripletMarginLoss(margin=0.5)(e, t, MultiSimilarityMiner()(e, t))
            for e, t in zip(groups, labels)
        ]
        torch.testing.assert_close(grouped, torch.stack(expected).float())


def test_grouped_hybrid_loss_averages_the_metric_terms_of_the_groups():
    embedding, target = batch(3, n=100, n_classes=4)
    logits = torch.randn(100, 4, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    focal_variance = FocalVarianceLoss(4)
    grouped = HybridLoss.paper(focal_variance, metric_group_size=32)((logits, embedding), target)
    whole = HybridLoss.paper(focal_variance)
    parts = [(0, 32), (32, 64), (64, 96), (96, 100)]
    metric = torch.stack([whole._metric(embedding[i:j], target[i:j]) for i, j in parts]).mean()
    expected = 0.5 * focal_variance(logits, embedding, target) + 0.5 * metric
    assert grouped.item() == pytest.approx(expected.item(), rel=1e-6)
    small = HybridLoss.paper(focal_variance, metric_group_size=100)((logits, embedding), target)
    assert small.item() == pytest.approx(whole((logits, embedding), target).item(), rel=1e-6)


def test_attention_equals_torch_multihead_attention_with_gradients():
    torch.manual_seed(0)
    attention = FeatureSelfAttention(16)
    x = torch.randn(64, 16, requires_grad=True)
    fast, generic = attention(x), attention.generic_forward(x)
    torch.testing.assert_close(fast, generic)
    fast_grads = torch.autograd.grad(fast.square().sum(), [x, *attention.parameters()])
    generic_grads = torch.autograd.grad(generic.square().sum(), [x, *attention.parameters()])
    for fast_grad, generic_grad in zip(fast_grads, generic_grads):
        torch.testing.assert_close(fast_grad, generic_grad, rtol=1e-4, atol=1e-4)


def test_logits_method_equals_the_first_output_of_forward():
    torch.manual_seed(0)
    net = QCLMixNet(6, 3).eval()
    x = torch.randn(10, 6)
    torch.testing.assert_close(net.logits(x), net(x)[0])


def test_tensor_batches_visit_every_row_once_in_fresh_tensors():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    generator = torch.Generator().manual_seed(0)
    batches = TensorBatches(Dataset(X, y), batch_size=4, shuffle=True, generator=generator)
    seen = []
    for Xb, yb in batches:
        assert not Xb._is_view() and Xb.data_ptr() != batches.X.data_ptr()
        torch.testing.assert_close(Xb[:, 0], 2.0 * yb.float())
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(10)) and len(batches) == 3
    Xb.fill_(-1.0)  # a batch callback writing into the batch leaves the data alone
    assert (batches.X >= 0).all()


def test_tensor_batches_drop_last_and_unshuffled_order():
    X, y = np.zeros((9, 2), dtype=np.float32), np.arange(9)
    dropped = TensorBatches(Dataset(X, y), batch_size=4, shuffle=True, drop_last=True)
    assert len(dropped) == 2 and sum(len(yb) for _, yb in dropped) == 8
    ordered = TensorBatches(Dataset(X, y), batch_size=4)
    assert [yb.tolist() for _, yb in ordered] == [[0, 1, 2, 3], [4, 5, 6, 7], [8]]
    assert [yb for _, yb in TensorBatches(Dataset(X, None), batch_size=5)] == [None, None]


def test_tensor_batches_shuffle_is_reproducible_from_the_generator():
    X, y = np.zeros((50, 1), dtype=np.float32), np.arange(50)

    def orders(seed):
        batches = TensorBatches(Dataset(X, y), batch_size=8, shuffle=True,
                                generator=torch.Generator().manual_seed(seed))
        return [torch.cat([yb for _, yb in batches]).tolist() for _ in range(2)]

    first = orders(3)
    assert first == orders(3) and first[0] != first[1] and first != orders(4)


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
        # every module build and every prediction (held-out ones in fit included) of the
        # ensemble's 3 members, trained one after the other (their module's own logits run)
        sequential = dict(max_epochs=1, member_training="sequential", random_state=0)
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
        QCLMixClassifier(max_epochs=1, n_threads=1, random_state=0).fit(X, y)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_validation_scores_the_kept_weights():
    from sklearn.metrics import f1_score, log_loss
    from sklearn.utils import check_random_state

    from qclmix_sklearn._validation_split import validation_split

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
    from qclmix_sklearn._mixup import knn_mixup

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
