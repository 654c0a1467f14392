"""An estimator whose fit trains several networks and predicts with their mean."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._torch_base import _numpy_weights

__all__ = ["NetEnsembleMixin"]


class NetEnsembleMixin:
    """Mixin of a :class:`~qclmix_sklearn._torch_base.TorchClassifierBase` with members.

    ``fit`` sets ``nets_`` (the trained skorch nets, one per member) and
    ``net_ = nets_[0]``; ``predict_proba`` is the mean of the members'
    probabilities. Pickling keeps every member as plain numpy weights (the
    base class keeps ``net_`` alone). Put it before the base class.
    """

    def predict_proba(self, X):
        """Class probabilities of X: the mean of the members' probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to 1; columns follow ``classes_``.
        """
        check_is_fitted(self)
        return np.mean([self._proba(X, net) for net in self.nets_], axis=0)

    def __getstate__(self):
        state = dict(super().__getstate__())
        nets = state.pop("nets_", None)
        if nets is not None:  # net_ is its first member: stored once, with the others
            state.pop("_module_weights", None)
            state["_member_weights"] = [_numpy_weights(member) for member in nets]
        return state

    def __setstate__(self, state):
        members = state.pop("_member_weights", None)
        super().__setstate__(state)
        if members is not None:
            self.nets_ = [self._restore_net(member) for member in members]
            self.net_ = self.nets_[0]
