"""Small skorch callbacks and scorers shared by every torch estimator."""

import math

import numpy as np
from skorch.callbacks import Callback
from sklearn.metrics import f1_score


def macro_f1_scorer(net, X, y):
    """Macro-F1 of a skorch net whose first output are the class logits."""
    proba = net.predict_proba(X)
    return f1_score(np.asarray(y), proba.argmax(axis=1), average="macro")


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error when a batch loss was NaN or inf.

    Checked at the end of each epoch, over all its batch losses: the losses
    reach the history once per epoch (see ``TrainingNet``), so checking needs
    no device synchronisation per batch. Without it a diverged run would
    silently keep training on NaN weights and predict a single class.
    """

    def on_epoch_end(self, net, **kwargs):
        try:
            values = net.history[-1, "batches", :, "train_loss"]
        except KeyError:
            return
        bad = [value for value in values if not math.isfinite(value)]
        if bad:
            epoch = len(net.history)
            raise FloatingPointError(
                f"The training loss became non-finite ({bad[0]}) in epoch {epoch}; "
                "lower the learning rate (lr, max_lr) or check the input scale."
            )
