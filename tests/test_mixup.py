import numpy as np
import pytest
import torch

from qclmix_sklearn.training._mixup import KNNMixup, knn_mixup


def test_partner_is_one_of_the_k_nearest_and_the_anchor_dominates():
    torch.manual_seed(0)
    X = torch.randn(40, 3)
    X_mix, partner, lam = knn_mixup(X, n_neighbors=5, alpha=0.2, rng=np.random.default_rng(0))
    distances = torch.cdist(X, X)
    distances.fill_diagonal_(float("inf"))
    nearest = distances.topk(5, largest=False).indices
    assert all(partner[i] in nearest[i] for i in range(40))
    assert (partner != torch.arange(40)).all()
    assert (lam >= 0.5).all() and (lam <= 1).all()
    expected = lam[:, None] * X + (1 - lam[:, None]) * X[partner]
    torch.testing.assert_close(X_mix, expected)


def test_neighbours_can_be_searched_in_another_space():
    X = torch.arange(4.0)[:, None].repeat(1, 2)
    features = torch.tensor([[0.0], [10.0], [0.1], [10.1]])
    _, partner, _ = knn_mixup(X, n_neighbors=1, features=features, rng=np.random.default_rng(0))
    assert partner.tolist() == [2, 3, 0, 1]


@pytest.mark.parametrize("n", [2, 3, 5])
def test_k_is_capped_by_the_batch_size(n):
    X = torch.randn(n, 4)
    X_mix, partner, _ = knn_mixup(X, n_neighbors=5, rng=np.random.default_rng(1))
    assert X_mix.shape == X.shape and torch.isfinite(X_mix).all()
    assert (partner != torch.arange(n)).all()


def test_a_batch_of_one_is_left_unchanged():
    X = torch.randn(1, 4)
    X_mix, _, lam = knn_mixup(X)
    torch.testing.assert_close(X_mix, X)
    assert lam.item() == 1.0


def test_same_generator_seed_gives_the_same_mix():
    X = torch.randn(30, 4)
    first = knn_mixup(X, rng=np.random.default_rng(3))[0]
    second = knn_mixup(X, rng=np.random.default_rng(3))[0]
    torch.testing.assert_close(first, second)


def test_callback_mixes_training_batches_only_and_in_place():
    callback = KNNMixup(random_state=0).initialize()
    X = torch.randn(16, 3)
    original = X.clone()
    callback.on_batch_begin(net=None, batch=(X, torch.zeros(16)), training=False)
    torch.testing.assert_close(X, original)
    callback.on_batch_begin(net=None, batch=(X, torch.zeros(16)), training=True)
    assert not torch.equal(X, original)


def test_callback_refuses_a_view_that_would_corrupt_the_data():
    data = torch.randn(32, 3)
    callback = KNNMixup(random_state=0).initialize()
    with pytest.raises(TypeError, match="freshly collated"):
        callback.on_batch_begin(net=None, batch=(data[:16], None), training=True)


def test_same_class_partners_share_the_anchors_label():
    torch.manual_seed(1)
    X = torch.randn(60, 3)
    labels = torch.randint(0, 3, (60,))
    labels[0] = 7  # the only row of its class: no partner, left unmixed
    X_mix, partner, _ = knn_mixup(X, n_neighbors=4, labels=labels, rng=np.random.default_rng(0))
    assert partner[0] == 0
    torch.testing.assert_close(X_mix[0], X[0])
    assert (labels[partner] == labels).all()
    assert (partner[1:] != torch.arange(1, 60)).all()
    # each partner is among the 4 nearest rows of the anchor's class
    distances = torch.cdist(X, X).masked_fill(labels[:, None] != labels[None, :], float("inf"))
    distances.fill_diagonal_(float("inf"))
    nearest = distances.topk(4, largest=False).indices
    assert all(partner[i] in nearest[i] for i in range(1, 60))


def test_same_class_partners_within_groups():
    X = torch.randn(50, 2)
    labels = torch.arange(50) % 2
    _, partner, _ = knn_mixup(X, labels=labels, group_size=16, rng=np.random.default_rng(0))
    assert (labels[partner] == labels).all()
    assert ((partner // 16) == (torch.arange(50) // 16)).all()


def test_callback_same_class_mixes_only_within_a_class():
    # two classes far apart: a cross-class mix would leave its cluster
    X = torch.cat([torch.zeros(8, 2), torch.full((8, 2), 100.0)]) + torch.rand(16, 2)
    y = torch.arange(16) // 8
    callback = KNNMixup(n_neighbors=15, alpha=1.0, random_state=0, same_class=True).initialize()
    callback.on_batch_begin(net=None, batch=(X, y), training=True)
    assert (X[:8] < 2).all() and (X[8:] > 99).all()


@pytest.mark.parametrize("n", [2, 3, 6, 64])
def test_partners_of_any_label_equal_the_same_label_search_within_one_class(n):
    from qclmix_sklearn.training._mixup import _partners

    # Without labels the count of qualifying neighbours is skipped (always k);
    # one label for all rows takes the general path: the same partners.
    generator = torch.Generator().manual_seed(n)
    space = torch.randn(3, n, 4, generator=generator)
    uniform = torch.rand(3, n, generator=generator)
    one_class = torch.zeros(3, n, dtype=torch.long)
    assert torch.equal(_partners(space, 5, uniform), _partners(space, 5, uniform, one_class))
