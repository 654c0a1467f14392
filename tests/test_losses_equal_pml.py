"""The built-in metric term computes pytorch-metric-learning's values and gradients."""

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning.miners import MultiSimilarityMiner
from torch.func import grad, vmap

from qclmix_sklearn.losses import FocalVarianceLoss, HybridLoss, SupConTripletLoss


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


def pml_metric(embedding, target, temperature=0.2, margin=0.5, epsilon=0.1):
    """pml's SupConLoss + TripletMarginLoss on MultiSimilarityMiner pairs (None: left out)."""
    total = 0
    if temperature is not None:
        total = total + pml_losses.SupConLoss(temperature=temperature)(embedding, target)
    if margin is not None:
        miner = None if epsilon is None else MultiSimilarityMiner(epsilon=epsilon)
        pairs = None if miner is None else miner(embedding, target)
        total = total + pml_losses.TripletMarginLoss(margin=margin)(embedding, target, pairs)
    return total


def assert_equals_pml(embedding, target, temperature, margin, epsilon):
    expected, expected_grad = value_and_grad(
        lambda e: pml_metric(e, target, temperature, margin, epsilon), embedding)
    value, grad = value_and_grad(SupConTripletLoss(temperature, margin, epsilon), embedding,
                                 target)
    assert value == pytest.approx(expected, rel=1e-5, abs=1e-7)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n_classes", [1, 2, 5, 64])  # 1: no negative pair; 64: hardly a positive
@pytest.mark.parametrize("terms", [(0.2, 0.5, 0.1), (0.1, None, None), (0.2, None, None),
                                   (None, 0.5, 0.1), (None, 0.5, 0.5), (None, 0.5, None)])
def test_the_metric_term_equals_pml_on_random_batches(seed, n_classes, terms):
    embedding, target = batch(seed, n_classes=n_classes)
    assert_equals_pml(embedding, target, *terms)


@pytest.mark.parametrize("margin", [0.0, 0.05, 2.5])
@pytest.mark.parametrize("n", [2, 3, 17, 150])
def test_the_triplet_term_equals_pml_for_other_margins_and_batch_sizes(margin, n):
    embedding, target = batch(n, n=n, n_classes=3)
    assert_equals_pml(embedding, target, None, margin, 0.1)


def test_the_triplet_term_is_zero_with_a_graph_when_no_triplet_violates():
    embedding = torch.tensor([[1.0, 0.0], [1.0, 0.01], [-1.0, 0.0]], requires_grad=True)
    value = SupConTripletLoss(None, margin=0.1, epsilon=None)(embedding, torch.tensor([0, 0, 1]))
    value.backward()
    assert value.item() == 0.0 and torch.equal(embedding.grad, torch.zeros_like(embedding))


def test_the_hybrid_loss_equals_the_pml_composition():
    torch.manual_seed(0)
    focal_variance = FocalVarianceLoss(4)
    built_in, pml = HybridLoss.paper(focal_variance), HybridLoss.paper_pml(focal_variance)
    for seed in range(4):
        for n_classes in (1, 2, 4):
            embedding, target = batch(seed, n_classes=n_classes)
            logits = torch.randn(64, 4, generator=torch.Generator().manual_seed(seed + 100))
            expected = (0.5 * focal_variance(logits, embedding, target)
                        + 0.5 * pml_metric(embedding, target))
            assert pml((logits, embedding), target).item() == pytest.approx(expected.item())
            value = built_in((logits, embedding), target)
            assert value.item() == pytest.approx(expected.item(), rel=1e-5)


@pytest.mark.parametrize("terms", [(0.2, None, None), (None, 0.5, 0.1), (0.2, 0.5, 0.1)])
def test_groups_along_leading_dimensions_equal_pml_on_each_group(terms):
    embedding, target = batch(7, n=5 * 32, n_classes=3)
    target[:32] = 1  # one single-class group
    groups, labels = embedding.unflatten(0, (5, 32)), target.unflatten(0, (5, 32))
    grouped = SupConTripletLoss(*terms)(groups, labels)
    expected = [pml_metric(e, t, *terms) for e, t in zip(groups, labels)]
    torch.testing.assert_close(grouped, torch.stack(expected).float())


@pytest.mark.parametrize("weighted", [False, True])
def test_leading_dimensions_and_vmap_give_each_slice_its_own_value_and_gradient(weighted):
    embedding, target = batch(11, n=3 * 40, n_classes=3)
    embedding, target = embedding.unflatten(0, (3, 40)), target.unflatten(0, (3, 40))
    weight = torch.rand(3, 40, generator=torch.Generator().manual_seed(0)) if weighted else None
    loss = SupConTripletLoss()

    def one(e, t, w):
        return loss(e, t) if w is None else loss(e, t, w)

    batched = loss(embedding, target, weight)
    in_w = None if weight is None else 0
    gradients = vmap(grad(one), in_dims=(0, 0, in_w))(embedding, target, weight)
    for i, (e, t) in enumerate(zip(embedding, target)):
        w = None if weight is None else weight[i]
        value, expected = value_and_grad(lambda x: one(x, t, w), e)
        assert batched[i].item() == value  # the same operations: the same values
        torch.testing.assert_close(gradients[i], expected, rtol=1e-5, atol=1e-7)


def test_the_grouped_hybrid_loss_averages_the_metric_terms_of_the_groups():
    embedding, target = batch(3, n=100, n_classes=4)
    logits = torch.randn(100, 4, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    focal_variance = FocalVarianceLoss(4)
    grouped = HybridLoss.paper(focal_variance, metric_group_size=32)((logits, embedding), target)
    parts = [(0, 32), (32, 64), (64, 96), (96, 100)]
    metric = torch.stack([pml_metric(embedding[i:j], target[i:j]) for i, j in parts]).mean()
    expected = 0.5 * focal_variance(logits, embedding, target) + 0.5 * metric
    assert grouped.item() == pytest.approx(expected.item(), rel=1e-5)
    whole = HybridLoss.paper(focal_variance)((logits, embedding), target)
    small = HybridLoss.paper(focal_variance, metric_group_size=100)((logits, embedding), target)
    assert small.item() == whole.item()
