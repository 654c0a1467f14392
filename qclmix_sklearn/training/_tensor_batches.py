"""A skorch batch iterator over whole-data tensors (no per-sample collation)."""

import math

import torch

__all__ = ["TensorBatches", "epoch_order"]


def epoch_order(n, generator=None, sample_weight=None):
    """The rows an epoch visits, in order (CPU ``int64``): a permutation of ``range(n)``, or
    with ``sample_weight`` ``n`` draws with replacement, row ``i`` with probability
    proportional to ``sample_weight[i]`` (float64)."""
    if sample_weight is None:
        return torch.randperm(n, generator=generator)
    return torch.multinomial(sample_weight, n, replacement=True, generator=generator)


class TensorBatches:
    """Mini-batches sliced from tensors that hold the whole data set.

    skorch's default ``DataLoader`` fetches every sample through
    ``Dataset.__getitem__`` and collates the batch row by row, which costs
    more than a training step of a small network. This iterator turns the
    data into tensors once (sharing the numpy memory on the CPU; one copy to
    a GPU) and takes each batch with a single indexing operation.

    Training batches (``shuffle=True``) come from ``X[indices]``, i.e. freshly
    allocated tensors that a batch callback may modify in place (as
    :class:`~qclmix_sklearn.training._mixup.KNNMixup` does) without touching the data.
    Unshuffled batches are slices (views) of the data: only for reading.

    The call signature is that of ``torch.utils.data.DataLoader``, so it is
    passed to skorch as ``iterator_train`` / ``iterator_valid``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (2-d array) and ``y`` (1-d array or None).
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Visit the rows in a new random order every epoch.
    drop_last : bool, default=False
        Skip a last, incomplete batch.
    generator : torch.Generator or None, default=None
        Source of the shuffling order (CPU generator).
    device : str or torch.device, default='cpu'
        Where the data tensors, and so every batch, live.
    sample_weight : array-like of shape (n_samples,) or None, default=None
        With ``shuffle``: every epoch draws as many rows as the data has, with
        replacement, row ``i`` with probability proportional to
        ``sample_weight[i]`` (class-aware sampling); ``None`` visits every row
        once.
    row_weight : array-like of shape (n_samples,) or None, default=None
        Per-row loss weights that travel with their rows: each batch is then
        ``(X_batch, (y_batch, weight_batch))``, which
        :class:`~qclmix_sklearn.training._training_net.TrainingNet` hands to the
        criterion as ``sample_weight``. They are independent of
        ``sample_weight``: a drawn row's loss counts with its ``row_weight``.
    """

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False, generator=None,
                 device="cpu", sample_weight=None, row_weight=None):
        self.X = torch.as_tensor(dataset.X).to(device)
        y = dataset.y
        self.y = None if y is None else torch.as_tensor(y).to(device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.device = self.X.device
        self.sample_weight = None if sample_weight is None else torch.as_tensor(
            sample_weight, dtype=torch.float64)
        self.row_weight = None if row_weight is None else torch.as_tensor(
            row_weight, dtype=torch.float32).to(device)

    def __len__(self):
        rounding = math.floor if self.drop_last else math.ceil
        return rounding(len(self.X) / self.batch_size)

    def __iter__(self):
        n = len(self.X)
        stop = len(self) * self.batch_size
        if self.shuffle:
            # One host-to-device copy per epoch, none per batch.
            order = epoch_order(n, self.generator, self.sample_weight).to(self.device)
        for start in range(0, min(stop, n), self.batch_size):
            if self.shuffle:
                rows = order[start:start + self.batch_size]
            else:
                rows = slice(start, start + self.batch_size)
            yield self.X[rows], self._target(rows)

    def _target(self, rows):
        if self.y is None:
            return None
        if self.row_weight is None:
            return self.y[rows]
        return self.y[rows], self.row_weight[rows]
