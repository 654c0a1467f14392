"""Small skorch callbacks and scorers shared by every torch estimator."""

import math

import numpy as np
from skorch.callbacks import Callback, EarlyStopping

from .._metrics import macro_f1


def weighted_macro_f1_scorer(sample_weight):
    """A scorer: macro-F1 of a skorch net whose first output are the class logits.

    Each row counts with its ``sample_weight``: the weights of the validation
    rows, in the validation set's order (validation batches are never
    shuffled); ``None``: every row the same.
    """
    sample_weight = None if sample_weight is None else np.asarray(sample_weight)

    def scorer(net, X, y):
        proba = net.predict_proba(X)
        return macro_f1(y, proba.argmax(axis=1), sample_weight)

    return scorer


def check_finite_loss(value, epoch):
    """Raise ``FloatingPointError`` if the training loss ``value`` of ``epoch`` is NaN or inf."""
    if not math.isfinite(value):
        raise FloatingPointError(
            f"The training loss became non-finite ({value}) in epoch {epoch}; "
            "lower the learning rate (lr, max_lr) or check the input scale."
        )


class NonFiniteLossGuard(Callback):
    """Stop training with a clear error as soon as a batch loss is NaN or inf.

    Without it a diverged run would silently keep training on NaN weights and
    predict a single class.
    """

    def on_batch_end(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        # skorch has already copied the loss to the host for its history:
        # reading it there costs no extra device synchronisation.
        check_finite_loss(net.history[-1, "batches", -1, "train_loss"], len(net.history))


class BestWeightsStopping(EarlyStopping):
    """skorch's ``EarlyStopping``, its snapshot of the best weights a copy of each tensor.

    skorch takes the snapshot with ``copy.deepcopy`` of the state dict, about
    a millisecond for these networks' few dozen small tensors, at every
    improving epoch of every network; a clone of each tensor is the same
    snapshot at a tenth of the cost. Everything else is skorch's: the
    patience, the threshold, stopping by ``KeyboardInterrupt`` and, with
    ``load_best=True``, loading the snapshot when training ends.
    """

    def on_epoch_end(self, net, **kwargs):
        load_best, self.load_best = self.load_best, False  # skorch's snapshot skipped
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            self.load_best = load_best
        if load_best and self.best_epoch_ == net.history[-1, "epoch"]:  # improved
            state = net.module_.state_dict()  # a new dict of views (with its metadata)
            for name, tensor in state.items():
                state[name] = tensor.clone()
            self.best_model_weights_ = state
