"""The skorch net the torch estimators train with."""

from skorch import NeuralNet
from skorch.utils import to_tensor
from torch.nn import functional as F


class TrainingNet(NeuralNet):
    """skorch's ``NeuralNet`` whose validation loss is the logits' cross-entropy.

    Checkpoint selection and early stopping look at the validation macro-F1
    only. The hybrid loss's batch-level terms (SupCon, mined triplets) grow
    with the square of the batch, so on validation they would cost time and
    memory for a number nobody uses; the cross-entropy keeps ``valid_loss``
    meaningful and lets validation run in large batches.

    Training batches with sample weights carry them with the labels, as
    ``(labels, weights)`` (see :class:`~qclmix_sklearn._tensor_batches.TensorBatches`);
    the criterion then gets them as ``sample_weight``.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        if training and isinstance(y_true, (tuple, list)):
            labels, weight = (to_tensor(t, device=self.device) for t in y_true)
            return self.criterion_(y_pred, labels, sample_weight=weight)
        if training:
            return super().get_loss(y_pred, y_true, X=X, training=training)
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        return F.cross_entropy(logits, to_tensor(y_true, device=self.device))
