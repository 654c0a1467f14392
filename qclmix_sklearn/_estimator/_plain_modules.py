"""torch modules held by an estimator's parameters, in a form skops can save.

A pytorch-metric-learning loss or miner given as ``metric_loss`` or
``miner`` is an ``nn.Module`` with attributes that skops' safe format cannot
hold: tensors (proxies, say) and bound methods of the object itself (pml's
pair losses keep ``self.loss_method``), which skops follows back into the
object without end (``RecursionError``). The estimators therefore keep such
a parameter, when pickled or saved, as a copy whose tensors are numpy arrays
(:class:`PlainTensor`) and whose own methods are names (:class:`OwnMethod`);
loading turns them back. Everything else stays itself, so skops still lists
the loss's classes among the types a user must trust.
"""

from collections import OrderedDict
from types import MethodType

import torch

__all__ = ["OwnMethod", "PlainTensor", "modules_from_plain", "modules_to_plain"]


class PlainTensor:
    """A tensor kept as a numpy array; :meth:`tensor` rebuilds it (on the CPU).

    Parameters
    ----------
    tensor : torch.Tensor
    """

    def __init__(self, tensor):
        self.array = tensor.detach().cpu().numpy()
        self.parameter = isinstance(tensor, torch.nn.Parameter)
        self.requires_grad = tensor.requires_grad

    def tensor(self):
        """The tensor again: a ``Parameter`` if it was one, ``requires_grad`` as it was."""
        tensor = torch.from_numpy(self.array.copy())
        if self.parameter:
            return torch.nn.Parameter(tensor, requires_grad=self.requires_grad)
        return tensor.requires_grad_(self.requires_grad)


class OwnMethod:
    """A bound method of the module that holds it, kept by its name.

    Parameters
    ----------
    name : str
    """

    def __init__(self, name):
        self.name = name


def _convert(value, owner, module_copy, leaf):
    """``value`` with ``leaf(value, owner)`` applied through modules, dicts, lists and tuples."""
    converted = leaf(value, owner)
    if converted is not value:
        return converted
    if isinstance(value, torch.nn.Module):
        state = {k: _convert(v, value, module_copy, leaf) for k, v in vars(value).items()}
        copy = module_copy(value)
        vars(copy).update(state)
        return copy
    if type(value) in (dict, OrderedDict):
        return type(value)((k, _convert(v, owner, module_copy, leaf)) for k, v in value.items())
    if type(value) in (list, tuple):
        return type(value)(_convert(v, owner, module_copy, leaf) for v in value)
    return value


def _to_plain(value, owner):
    if isinstance(value, torch.Tensor):
        return PlainTensor(value)
    if isinstance(value, MethodType) and owner is not None and value.__self__ is owner:
        return OwnMethod(value.__name__)
    return value


def _from_plain(value, owner):
    if isinstance(value, PlainTensor):
        return value.tensor()
    if isinstance(value, OwnMethod):
        return getattr(owner, value.name)
    return value


def modules_to_plain(state):
    """A copy of the dict ``state`` whose ``nn.Module`` values are plain copies (see above).

    The modules themselves are left as they are.
    """
    return {key: _convert(value, None, lambda m: object.__new__(type(m)), _to_plain)
            if isinstance(value, torch.nn.Module) else value for key, value in state.items()}


def modules_from_plain(state):
    """``state`` with the plain copies of :func:`modules_to_plain` made modules again, in place."""
    for key, value in state.items():
        if isinstance(value, torch.nn.Module):
            state[key] = _convert(value, None, lambda m: m, _from_plain)
    return state
