"""The skorch net the torch estimators train with."""

import torch
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_tensor
from torch.nn import functional as F

from ._flat_adamw import FlatAdamW


class TrainingNet(NeuralNet):
    """skorch's ``NeuralNet`` whose validation loss is the logits' cross-entropy.

    Checkpoint selection and early stopping look at the validation macro-F1
    only. The hybrid loss's batch-level terms (SupCon, mined triplets) grow
    with the square of the batch, so on validation they would cost time and
    memory for a number nobody uses; the cross-entropy keeps ``valid_loss``
    meaningful and lets validation run in large batches.

    Training batches with sample weights carry them with the labels, as
    ``(labels, weights)`` (see :class:`~qclmix_sklearn.training._tensor_batches.TensorBatches`);
    the criterion then gets them as ``sample_weight``.

    ``torch.optim.AdamW`` is run as :class:`~qclmix_sklearn.training._flat_adamw.FlatAdamW`:
    the same update on one flat tensor instead of one per parameter (kept
    for results equal to the bit to those stored, not for speed: see its
    docstring).
    """

    def initialize_optimizer(self, triggered_directly=None):
        if self.optimizer is not torch.optim.AdamW:
            return super().initialize_optimizer(triggered_directly)
        args, kwargs = self.get_params_for_optimizer("optimizer",
                                                     self.get_all_learnable_params())
        self.optimizer_ = FlatAdamW(*args, **kwargs)
        return self

    def train_step_single(self, batch, **fit_params):
        # skorch's step, less its walk over every submodule to set training
        # mode when the module and criterion are in it already (validation
        # and KNNMixup leave eval mode through train(), which sets them all).
        if not (getattr(self.module_, "training", False)
                and getattr(self.criterion_, "training", False)):
            self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if training and isinstance(y_true, (tuple, list)):
            labels, weight = (to_tensor(t, device=self.device) for t in y_true)
            return self.criterion_(y_pred, labels, sample_weight=weight)
        if training:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return F.cross_entropy(logits, to_tensor(y_true, device=self.device))
