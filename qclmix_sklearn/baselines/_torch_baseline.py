"""The base of the torch baselines: the fitted attributes they all have, documented once."""

import re
import textwrap

from .._estimator._torch_base import TorchClassifierBase

_FITTED_ATTRIBUTES = """\
classes_ : ndarray of shape (n_classes,)
    Class labels.

n_features_in_ : int
    Number of features seen during fit.

feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when X has string column names.

net_ : skorch.NeuralNet
    The trained skorch net, with the weights of the kept epoch;
    ``net_.module_`` is the network.

best_epoch_ : int
    1-based epoch whose weights were kept.

n_iter_ : int
    Number of epochs run."""

_PLACEHOLDER = re.compile(r"^(?P<indent> *)\{fitted_attributes\}[ \t]*$", re.MULTILINE)


class TorchBaseline(TorchClassifierBase):
    """:class:`TorchClassifierBase` whose subclasses share their fitted attributes' documentation.

    A line holding only ``{fitted_attributes}`` in the Attributes section of
    a subclass docstring becomes the entries of the attributes every torch
    baseline has (``classes_``, ``n_features_in_``, ``feature_names_in_``,
    ``net_``, ``best_epoch_``, ``n_iter_``), as ``{shared_parameters}`` does
    for the parameters.
    """

    def __init_subclass__(cls, **kwargs):
        if cls.__doc__:  # python -OO strips docstrings
            cls.__doc__ = _PLACEHOLDER.sub(
                lambda line: textwrap.indent(_FITTED_ATTRIBUTES, line["indent"]), cls.__doc__
            )
        # After: the base expands the parameters' placeholders and refuses any other.
        super().__init_subclass__(**kwargs)
