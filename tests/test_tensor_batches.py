import numpy as np
import torch
from skorch.dataset import Dataset

from qclmix_sklearn._tensor_batches import TensorBatches


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
