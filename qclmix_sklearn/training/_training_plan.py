"""How one network trains, beside its module and criterion: :class:`TrainingPlan`.

``TorchClassifierBase._build_net`` makes a member's plan and builds its skorch
net from it; the stacked training of ensemble members reads the same plan
(:mod:`~qclmix_sklearn.training._stacked_fit`), so the two cannot disagree and
nothing is read back out of a net by parameter name.
"""

from typing import NamedTuple

import numpy as np
import torch

from ._mixup import KNNMixup

__all__ = ["TrainingPlan"]


class TrainingPlan(NamedTuple):
    """One network's training settings.

    ``batch_size``, ``n_batches`` (an epoch's), ``shuffle``, ``drop_last``,
    ``generator`` (the batch order's), ``draw_weight`` (each fitting row's
    chance to be drawn, with class-aware batches; None: every row once an
    epoch) and ``row_weight`` (each fitting row's weight in the loss) are
    those of the training batches (:class:`~qclmix_sklearn.training._tensor_batches.TensorBatches`).
    ``one_cycle``: the keyword arguments of the OneCycleLR schedule stepped
    every batch, or None for the constant ``lr``. ``patience``: epochs
    without a better validation macro-F1 before training stops, None when
    there are no validation rows (the last epoch is kept); ``valid_weight``
    weighs that macro-F1. ``callbacks``: the subclass's own
    ``(name, callback)`` pairs, such as kNN mixup.
    """

    batch_size: int
    n_batches: int
    shuffle: bool
    drop_last: bool
    generator: torch.Generator
    draw_weight: np.ndarray | None
    row_weight: np.ndarray | None
    lr: float
    weight_decay: float
    max_epochs: int
    one_cycle: dict | None
    patience: int | None
    valid_weight: np.ndarray | None
    callbacks: tuple
    verbose: int

    @property
    def mixup(self):
        """The plan's :class:`~qclmix_sklearn.training._mixup.KNNMixup`, or None."""
        return next((c for _, c in self.callbacks if isinstance(c, KNNMixup)), None)
