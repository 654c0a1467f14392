import math

import pytest
import torch
from torch.nn import functional as F

from qclmix_sklearn.losses import FocalVarianceLoss, HybridLoss, SupConTripletLoss


def readable_focal_variance(loss, logits, embedding, target):
    """The paper's formula written out directly, for comparison."""
    p = F.softmax(logits.double(), dim=1)
    p_t = p[torch.arange(len(target)), target]
    focal = (1 - p_t) ** loss.gamma * -torch.log(p_t)
    centroids = loss.centroids.double()
    compact = ((embedding.double() - centroids[target]) ** 2).sum(dim=1)
    present = sorted(set(target.tolist()))
    separation = 0.0
    if len(present) > 1:
        distances = [
            torch.linalg.norm(centroids[j] - centroids[k])
            for j in present for k in present if j != k
        ]
        separation = -torch.log(torch.sigmoid(torch.stack(distances).mean()))
    return (focal + loss.beta * compact).mean() + separation


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("single_class", [False, True])
def test_focal_variance_matches_the_direct_formula(seed, single_class):
    torch.manual_seed(seed)
    loss = FocalVarianceLoss(n_classes=4)
    logits, embedding = torch.randn(16, 4), torch.randn(16, 8)
    target = torch.zeros(16, dtype=torch.long) if single_class else torch.randint(0, 4, (16,))
    expected = readable_focal_variance(loss, logits, embedding, target)
    assert loss(logits, embedding, target).item() == pytest.approx(expected.item(), rel=1e-5)


def test_focal_term_has_no_nan_when_the_true_class_is_certain():
    loss = FocalVarianceLoss(n_classes=2)
    logits = torch.tensor([[200.0, -200.0], [-200.0, 200.0]], requires_grad=True)
    embedding = torch.zeros(2, 8, requires_grad=True)
    value = loss(logits, embedding, torch.tensor([0, 1]))
    value.backward()
    assert math.isfinite(value.item())
    assert torch.isfinite(logits.grad).all() and torch.isfinite(loss.centroids.grad).all()


def test_separation_is_zero_with_one_class_present():
    loss = FocalVarianceLoss(n_classes=3)
    assert loss._separation(torch.tensor([2, 2, 2])).item() == 0.0
    assert loss._separation(torch.tensor([0, 2])).item() > 0.0


def test_hybrid_loss_is_the_weighted_sum_of_its_parts():
    torch.manual_seed(0)
    hybrid = HybridLoss.paper(FocalVarianceLoss(3), alpha=0.3)
    logits, embedding = torch.randn(32, 3), torch.randn(32, 8)
    target = torch.randint(0, 3, (32,))
    fvl = hybrid.focal_variance(logits, embedding, target)
    metric = hybrid.metric(embedding, target)
    expected = 0.3 * fvl + 0.7 * metric
    assert hybrid((logits, embedding), target).item() == pytest.approx(expected.item(), rel=1e-6)


def test_hybrid_loss_uses_the_paper_constants():
    hybrid = HybridLoss.paper(FocalVarianceLoss(2))
    assert hybrid.alpha == 0.5
    assert isinstance(hybrid.metric, SupConTripletLoss)
    metric = hybrid.metric
    assert (metric.temperature, metric.margin, metric.epsilon) == (0.2, 0.5, 0.1)


@pytest.mark.parametrize("target", [[1] * 8, [0, 1, 2, 3, 4, 5, 6, 7]])
def test_hybrid_loss_is_finite_without_positive_pairs_or_without_negatives(target):
    torch.manual_seed(0)
    hybrid = HybridLoss.paper(FocalVarianceLoss(8))
    logits = torch.randn(8, 8, requires_grad=True)
    embedding = torch.randn(8, 8, requires_grad=True)
    value = hybrid((logits, embedding), torch.tensor(target))
    value.backward()
    assert math.isfinite(value.item())
    assert torch.isfinite(embedding.grad).all()


@pytest.mark.parametrize("group_size", [None, 8, 10])
@pytest.mark.parametrize("weighted", [False, True])
def test_hybrid_loss_gives_each_leading_index_its_own_loss(group_size, weighted):
    from torch.func import functional_call

    torch.manual_seed(0)
    hybrid = HybridLoss.paper(FocalVarianceLoss(3), metric_group_size=group_size)
    assert hybrid.accepts_leading_dimensions
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 24, 3, generator=generator)
    embedding = torch.randn(2, 24, 8, generator=generator)
    target = torch.randint(0, 3, (2, 24), generator=generator)
    weight = {"sample_weight": torch.rand(2, 24, generator=generator)} if weighted else {}
    # one centroid matrix per index, or the loss's own for all
    for centroids in (torch.randn(2, 3, 8, generator=generator), hybrid.focal_variance.centroids):
        values = functional_call(hybrid, {"focal_variance.centroids": centroids},
                                 ((logits, embedding), target), weight)
        for i in range(2):
            own = centroids[i] if centroids.dim() == 3 else centroids
            expected = functional_call(hybrid, {"focal_variance.centroids": own},
                                       ((logits[i], embedding[i]), target[i]),
                                       {k: w[i] for k, w in weight.items()})
            assert values[i].item() == pytest.approx(expected.item(), rel=1e-6)


def test_a_pml_metric_term_takes_one_batch_at_a_time():
    assert not HybridLoss.paper_pml(FocalVarianceLoss(3)).accepts_leading_dimensions
    assert HybridLoss.paper_pml(FocalVarianceLoss(3), alpha=1).accepts_leading_dimensions
