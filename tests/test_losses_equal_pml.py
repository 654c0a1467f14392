"""The fast loss terms compute pytorch-metric-learning's mathematics (values and gradients)."""

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.miners import MultiSimilarityMiner

from qclmix_sklearn.losses import (
    FocalVarianceLoss,
    HybridLoss,
    MultiSimilarityMiner as MaskMiner,
    SupConLoss,
    TripletMarginLoss,
)
from qclmix_sklearn.losses._pair_masks import pair_masks


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


def separate_metric(embedding, target, temperature, margin, epsilon, sample_weight=None):
    """SupCon plus the triplet term on mined pairs, each part on its own (the unfused path)."""
    weight = {} if sample_weight is None else {"sample_weight": sample_weight}
    total = 0
    if temperature is not None:
        total = total + SupConLoss(temperature=temperature)(embedding, target, **weight)
    if margin is not None:
        pairs = None if epsilon is None else MaskMiner(epsilon=epsilon)(embedding, target)
        total = total + TripletMarginLoss(margin=margin)(embedding, target, pairs, **weight)
    return total


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])
@pytest.mark.parametrize("shape", [(64,), (3, 32), (2,)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("terms", [(0.2, 0.5, 0.1), (0.1, None, None), (None, 0.05, 0.3),
                                   (None, 0.5, None)])
def test_fused_metric_equals_the_separate_parts(seed, n_classes, shape, weighted, terms):
    from qclmix_sklearn.losses._fused_metric import fused_metric

    generator = torch.Generator().manual_seed(seed)
    embedding = torch.randn(*shape, 8, generator=generator)
    target = torch.randint(0, n_classes, shape, generator=generator)
    weight = torch.rand(shape, generator=generator) if weighted else None
    if weighted and seed == 0:
        weight[..., : shape[-1] // 2] = 0  # rows that count nothing
    expected, expected_grad = value_and_grad(
        lambda e: separate_metric(e, target, *terms, sample_weight=weight).sum(), embedding)
    value, grad = value_and_grad(
        lambda e: fused_metric(e, target, *terms, sample_weight=weight).sum(), embedding)
    assert value == expected  # the same operations: the same values
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])
def test_fused_metric_equals_pml_with_gradients(seed, n_classes):
    from qclmix_sklearn.losses._fused_metric import fused_metric

    embedding, target = batch(seed, n_classes=n_classes)

    def pml_metric(e):
        pairs = MultiSimilarityMiner()(e, target)
        return (pml_losses.SupConLoss(temperature=0.2)(e, target)
                + pml_losses.TripletMarginLoss(margin=0.5)(e, target, pairs))

    expected, expected_grad = value_and_grad(pml_metric, embedding)
    value, grad = value_and_grad(lambda e: fused_metric(e, target, 0.2, 0.5, 0.1), embedding)
    assert value == pytest.approx(expected, rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


def test_fused_metric_gradients_under_vmap_are_each_groups_own():
    from torch.func import grad, vmap

    from qclmix_sklearn.losses._fused_metric import fused_metric

    embedding, target = batch(11, n=3 * 40, n_classes=3)
    embedding, target = embedding.unflatten(0, (3, 40)), target.unflatten(0, (3, 40))
    batched = vmap(grad(lambda e, t: fused_metric(e, t, 0.2, 0.5, 0.1)))(embedding, target)
    for e, t, g in zip(embedding, target, batched):
        _, expected = value_and_grad(lambda x: separate_metric(x, t, 0.2, 0.5, 0.1), e)
        torch.testing.assert_close(g, expected, rtol=1e-4, atol=1e-6)


def test_the_paper_hybrid_loss_runs_the_fused_metric(monkeypatch):
    import qclmix_sklearn.losses._hybrid_loss as hybrid_module

    calls = []
    fused = hybrid_module.fused_metric
    monkeypatch.setattr(hybrid_module, "fused_metric",
                        lambda *a, **k: calls.append(a[2:]) or fused(*a, **k))
    embedding, target = batch(0)
    logits = torch.randn(64, 4)
    hybrid = HybridLoss.paper(FocalVarianceLoss(4), temperature=0.3, margin=0.7)
    hybrid((logits, embedding), target)
    assert calls == [(0.3, 0.7, 0.1)]
    hybrid.miner = MultiSimilarityMiner()  # pml's miner: the parts run one by one
    hybrid((logits, embedding), target)
    assert len(calls) == 1
