import numpy as np
import torch
from skorch.dataset import Dataset

from qclmix_sklearn.training._tensor_batches import TensorBatches


def _labels_of_one_epoch(batches):
    return torch.cat([y for _, y in batches]).numpy()


def test_shuffled_epoch_visits_every_row_once():
    y = np.repeat([0, 1], [90, 10])
    batches = TensorBatches(Dataset(np.zeros((100, 2), np.float32), y), 16, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
    assert sorted(_labels_of_one_epoch(batches)) == sorted(y)


def test_sample_weight_draws_classes_in_proportion_to_their_weight():
    y = np.repeat([0, 1], [900, 100])
    weight = np.bincount(y)[y] ** -1.0  # every class equally often
    batches = TensorBatches(Dataset(np.zeros((1000, 2), np.float32), y), 64, shuffle=True,
                            generator=torch.Generator().manual_seed(0), sample_weight=weight)
    drawn = np.concatenate([_labels_of_one_epoch(batches) for _ in range(5)])
    assert len(drawn) == 5000
    assert 0.45 < drawn.mean() < 0.55  # minority share 0.1 without weights


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
