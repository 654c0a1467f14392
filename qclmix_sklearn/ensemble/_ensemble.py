"""An estimator whose fit trains several networks and predicts with their mean."""

import numpy as np

from .._estimator._torch_base import numpy_weights, torch_threads, validate_prediction_data
from ._fused_inference import fused_mean_proba

__all__ = ["NetEnsembleMixin"]

# Fewer rows are predicted member by member: folding the members (and checking
# the fold on a few rows) costs about what predicting this many rows saves.
_FUSED_MIN_ROWS = 4096


class NetEnsembleMixin:
    """Mixin of a :class:`~qclmix_sklearn._estimator._torch_base.TorchClassifierBase` with members.

    ``fit`` sets ``nets_`` (the trained skorch nets, one per member) and
    ``net_ = nets_[0]``; ``predict_proba`` is the mean of the members'
    probabilities. Pickling keeps every member as plain numpy weights (the
    base class keeps ``net_`` alone). Put it before the base class.
    """

    def _mean_proba(self, X, offsets=None):
        """The members' (weighted) mean probabilities, ``offsets`` added to each one's logits
        first.

        Weighted by ``member_weights_`` (a fitted attribute of the estimator,
        where it has one) when the members differ in weight.

        All members in one pass, their layers folded (see
        :mod:`~qclmix_sklearn.ensemble._fused_inference`), where that applies; else
        member by member through ``_proba``. The two agree up to float
        rounding.
        """
        X = validate_prediction_data(self, X)
        weights = self._member_weights()
        if len(X) >= _FUSED_MIN_ROWS:
            with torch_threads(self.n_threads):
                proba = fused_mean_proba([net.module_ for net in self.nets_], X, offsets,
                                         weights)
            if proba is not None:
                return proba
        return np.average([self._proba(X, net, validated=True, offsets=offsets)
                           for net in self.nets_], axis=0, weights=weights)

    def _member_weights(self):
        """``member_weights_``, or None when the members weigh the same (the plain mean)."""
        weights = getattr(self, "member_weights_", None)
        return None if weights is None or np.all(weights == weights[0]) else weights

    def __getstate__(self):
        state = dict(super().__getstate__())
        nets = state.pop("nets_", None)
        if nets is not None:  # net_ is its first member: stored once, with the others
            state.pop("_module_weights", None)
            state["_member_weights"] = [numpy_weights(member) for member in nets]
        return state

    def __setstate__(self, state):
        members = state.pop("_member_weights", None)
        super().__setstate__(state)
        if members is not None:
            self.nets_ = [self._restore_net(member) for member in members]
            self.net_ = self.nets_[0]
