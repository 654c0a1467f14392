"""Eval-mode logits of all members of an ensemble in one pass, BatchNorm and attention folded away.

Predicting member by member runs every layer of every member as its own
operation over each chunk of rows: a dozen small kernels per member, most of
them elementwise (BatchNorm, the attention's projections, gates). In eval mode
most of them are affine maps that compose, so the logits of k members need
only the few steps where a nonlinearity sits:

* BatchNorm in eval mode is ``x * scale + shift``: it folds into the
  preceding Linear.
* :class:`~qclmix_sklearn.nn.FeatureSelfAttention` attends over a single key,
  whose softmax weight is 1: ``x + out_proj(value(x))``, an affine map of x
  (query and key only decide whether the score overflows; see below).
* A :class:`~qclmix_sklearn.nn.QuantumEntanglement` layer on an affine
  ``z = h A + e`` gives ``sigmoid(h . g + d) * (h A' + e')``: its gate is one
  more output column of the same matrix product, its ``cos(theta)`` folds
  into ``A``.

So the default network is three matrix products per chunk (the first one
shared by all members, their weights side by side along its output
dimension, the others batched over the members), two gates and two
LeakyReLUs. Folding changes the rounding only (the folded weights are
computed in float64).

The network says which layers its logits apply (``QCLMixNet.logit_layers``)
and each layer how it folds (``affine_map``, or ``fold`` for a gate) and bounds
its values (``bound_step``), in its own file (see :mod:`qclmix_sklearn.nn`).
A network without ``logit_layers``, a layer without such a form (e.g. the
periodic embedding) or a BatchNorm without running statistics makes
:meth:`FusedMembers.build` return None, and the caller predicts member by
member as before. As a last safeguard each build checks its logits against
the modules' own on a few rows.

Overflow: the exact path refuses rows whose values overflow float32 inside
the network (the attention score ``q . k`` of a row with ``|x| ~ 1e20``),
and the folded path no longer computes that score. :meth:`FusedMembers.is_safe`
bounds every intermediate value of the exact computation from ``max |x|``;
inputs it cannot clear, and any non-finite folded output, go to the exact
path, which raises as before.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .._estimator._device import DEVICE_CHUNK_ROWS, row_chunks, to_host
from .._estimator._torch_base import softmax_float64
from ..nn._bounds import affine_bound_step, scale_bound_step

__all__ = ["FusedMembers", "fused_mean_proba"]

# Rows per pass: 1024 to 8192 ran alike for 3 members at D = 16 (the widest
# activations, 3 x 65 floats a row, then stay near the L2 cache); 16384 was slower.
_CHUNK = 2048
# is_safe() admits inputs whose bound on every intermediate value of the exact
# path stays below this: far from float32's 3.4e38, so that the rounding of
# the bound itself cannot matter.
_SAFE_MAGNITUDE = 1e30
# Rows of X (and as many random rows) on which each prediction first checks
# the fused logits against the modules' own (FusedMembers.matches).
_N_PROBE = 64
_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU)


class FusedMembers:
    """The eval-mode logits of k networks of one structure, as a few stacked steps.

    Build it with :meth:`build`. ``stages`` are the materialised steps (see
    :func:`_stage`), their tensors stacked over the members; ``bounds`` has
    one list of bound steps per member (see :meth:`is_safe`).
    """

    def __init__(self, stages, bounds, n_classes):
        self.stages = stages
        self.bounds = bounds
        self.n_classes = n_classes

    @classmethod
    def build(cls, modules):
        """The fused members, or None when any layer is of an unknown kind."""
        layer_lists = [_logit_layers(module) for module in modules]
        if any(layers is None for layers in layer_lists):
            return None
        if len({tuple(type(layer) for layer in layers) for layers in layer_lists}) != 1:
            return None
        programs = [_fold(layers, module.n_features)
                    for layers, module in zip(layer_lists, modules)]
        if any(program is None for program in programs):
            return None
        stage_lists, bounds = zip(*programs)
        if len({tuple(s["shape"] for s in stages) for stages in stage_lists}) != 1:
            return None
        device = layer_lists[0][-1].weight.device
        stages = [_stack([stages[i] for stages in stage_lists], device)
                  for i in range(len(stage_lists[0]))]
        return cls(stages, list(bounds), stage_lists[0][-1]["shape"][1])

    def is_safe(self, max_abs_x):
        """Whether no intermediate value of the exact path can reach float32's overflow.

        ``max_abs_x``: the largest ``|x|`` of the input (NaN: not safe).
        """
        for steps in self.bounds:
            bound = float(max_abs_x)
            for step in steps:
                bound, peak = step(bound)
                if not max(bound, peak) < _SAFE_MAGNITUDE:  # NaN compares False
                    return False
        return True

    def logits(self, x):
        """Every member's logits on the rows ``x`` (n, D): ``(k, n, n_classes)`` float32.

        The activations are held transposed, ``(k, features, rows)``: products
        of a small weight matrix with many rows run faster in that order, and
        the elementwise steps then see long contiguous rows. The result is a
        transposed view.
        """
        h = x
        for stage in self.stages:
            h = _run_stage(stage, h)
        return h.transpose(1, 2)

    def matches(self, modules, X):
        """Whether the fused logits on the rows X agree with the modules' own (eval mode).

        The layers are read off the modules, but how their ``logits`` compose
        them is not: a network that composes them otherwise (a future
        option) would silently predict something else without this check.
        """
        with torch.inference_mode():
            fused = self.logits(X)
            for module, mine in zip(modules, fused):
                module.eval()
                exact = _exact_logits(module, X)
                scale = max(1.0, float(exact.abs().max()))
                if not torch.allclose(mine, exact, rtol=1e-3, atol=1e-3 * scale):
                    return False
        return True


def fused_mean_proba(modules, X, offsets=None, weights=None):
    """Mean over the members of ``softmax(logits + offsets)``, or None.

    ``weights`` (one per member, summing to 1): a weighted mean instead.

    As the members' ``TorchClassifierBase._proba`` averaged: float64
    probabilities of validated float32 ``X`` (numpy, n x D), ``offsets``
    (one per class) added to each member's logits. None when the fast path
    does not apply (unknown layers, inputs that may overflow the exact path,
    non-finite logits): predict member by member instead.

    Computed where the members are: on a GPU, X goes over in large chunks
    (see :func:`~qclmix_sklearn._estimator._device.row_chunks`), the probabilities stay
    there until the end, and whether X was safe to fold (its largest ``|x|``,
    see :meth:`FusedMembers.is_safe`) and the logits finite is read back once,
    after the last chunk.
    """
    X = torch.from_numpy(X)
    fused = FusedMembers.build(modules)
    if fused is None:
        return None
    device = fused.stages[0]["weight"].device
    on_cpu = device.type == "cpu"
    with torch.inference_mode():
        if on_cpu:  # refuse before computing: the CPU's time is the caller's
            low, high = torch.aminmax(X)
            if not fused.is_safe(max(-float(low), float(high))):
                return None
        if not fused.matches(modules, _probe_rows(X).to(device)):
            return None
        out = torch.empty(len(X), fused.n_classes, dtype=torch.float64, device=device)
        if weights is not None:
            member_weights = torch.as_tensor(weights, dtype=torch.float64, device=device)
        total = torch.zeros((), dtype=torch.float64, device=device)
        largest = torch.zeros((), dtype=X.dtype, device=device)
        for start, x in row_chunks(X, _CHUNK if on_cpu else DEVICE_CHUNK_ROWS, device):
            if not on_cpu:
                largest = torch.maximum(largest, x.abs().amax())
            # (k, classes, rows): the reductions over the classes and the
            # members run along contiguous rows in this order.
            logits = fused.logits(x).transpose(1, 2).double()
            total += logits.sum()  # finite iff every logit is
            proba = softmax_float64(logits, offsets, dim=1)
            if weights is None:
                mean = proba.sum(dim=0).div_(len(proba))
            else:
                mean = torch.einsum("k,kcn->cn", member_weights, proba)
            out[start:start + len(x)].T.copy_(mean)
        if not torch.isfinite(total) or not (on_cpu or fused.is_safe(float(largest))):
            return None
        return to_host(out).numpy()


def _probe_rows(X):
    """The first rows of X and as many standard-normal rows (a fixed draw)."""
    generator = torch.Generator().manual_seed(0)
    normal = torch.randn(_N_PROBE, X.shape[1], generator=generator, dtype=X.dtype)
    return torch.cat([X[:_N_PROBE], normal])


def _exact_logits(module, X):
    """The logits as ``TorchClassifierBase._logits`` gets them from the module."""
    if callable(getattr(module, "logits", None)):
        return module.logits(X)
    out = module(X)
    return out[0] if isinstance(out, tuple) else out


# -- the network's layers ---------------------------------------------------------
def _logit_layers(module):
    """The layers the network's ``logits`` applies, in order (its ``logit_layers``), or None."""
    layers = getattr(module, "logit_layers", None)
    return None if layers is None else layers()


# -- folding --------------------------------------------------------------------------
def _fold(layers, width):
    """``(stages, bound steps)`` of one member's layers on inputs of ``width`` features, or
    None (a layer that does not fold).

    Each layer folds by its own form: an activation (ReLU, LeakyReLU) is
    materialised, a layer with an ``affine_map()`` composes into the state, one
    with a ``fold`` (QuantumEntanglement's gate) transforms it. The state
    between nonlinearities is ``z = gate * (h @ A + b) + c`` with
    ``gate = sigmoid(h @ g + d)`` or 1, for the last materialised activation
    h (first: the input).
    """
    state = _identity_state(width)
    stages, bounds = [], []
    for layer in layers:
        if type(layer) in _ACTIVATIONS:
            stages.append(_stage(state, layer))
            state = _identity_state(state["A"].shape[1])
            slope = abs(layer.negative_slope) if type(layer) is nn.LeakyReLU else 0.0
            bounds.append(scale_bound_step(max(1.0, slope)))
        elif callable(getattr(layer, "fold", None)):
            if state["gate"] is not None:  # a gate of a gate: materialise first
                stages.append(_stage(state, None))
                state = _identity_state(state["A"].shape[1])
            A, b, gate = layer.fold(state["A"], state["b"] + state["c"])
            state = {"A": A, "b": b, "c": np.zeros_like(b), "gate": gate}
            bounds.append(layer.bound_step())
        else:
            affine = layer.affine_map() if callable(getattr(layer, "affine_map", None)) else None
            if affine is None:
                return None
            matrix, vector = affine
            state = {"A": state["A"] @ matrix, "b": state["b"] @ matrix,
                     "c": state["c"] @ matrix + vector, "gate": state["gate"]}
            own = getattr(layer, "bound_step", None)
            bounds.append(own() if callable(own) else affine_bound_step(matrix, vector))
    stages.append(_stage(state, None))
    return stages, bounds


def _identity_state(width):
    return {"A": np.eye(width), "b": np.zeros(width), "c": np.zeros(width), "gate": None}


def _stage(state, activation):
    """One materialised step: ``act(gate * (h @ W[:, :n] + bias[:n]) + c)``.

    With a gate, its input ``h @ g + d`` is the last column of ``h @ W + bias``.
    """
    A, b, c, gate = state["A"], state["b"], state["c"], state["gate"]
    if gate is None:
        weight, bias, after = A, b + c, None
    else:
        weight = np.concatenate([A, gate[0][:, None]], axis=1)
        bias, after = np.append(b, gate[1]), c
    slope = None
    if activation is not None:
        slope = activation.negative_slope if type(activation) is nn.LeakyReLU else 0.0
    return {"weight": weight, "bias": bias, "after": after, "slope": slope,
            "shape": (A.shape[0], A.shape[1], gate is not None, slope)}


def _stack(stages, device):
    """One stage of every member, for :func:`_run_stage`: float32 tensors stacked over the members.

    Transposed (features x rows, see :meth:`FusedMembers.logits`): ``weight``
    is ``(k, n_out (+ 1 gate row), n_in)``, ``bias`` and ``after`` are columns;
    all on ``device``, the members' own.
    """
    first = stages[0]

    def stacked(key):
        return torch.from_numpy(np.ascontiguousarray(
            np.stack([s[key].T for s in stages]), dtype=np.float32)).to(device)

    def column(key):
        return torch.from_numpy(
            np.stack([s[key] for s in stages]).astype(np.float32)[:, :, None]).to(device)

    return {"weight": stacked("weight"), "bias": column("bias"),
            "after": None if first["after"] is None else column("after"),
            "slope": first["slope"], "n_out": first["shape"][1]}


def _run_stage(stage, h):
    """A stacked stage on ``h``: the rows ``(n, D)`` shared by the members, or ``(k, D, n)``."""
    weight, bias = stage["weight"], stage["bias"]
    k, n_cols, n_in = weight.shape
    if h.dim() == 2:
        # One product for all members: their weights stacked along its output dimension.
        out = torch.addmm(bias.view(k * n_cols, 1), weight.view(k * n_cols, n_in), h.T)
        out = out.view(k, n_cols, len(h))
    else:
        out = torch.baddbmm(bias, weight, h)
    if stage["after"] is not None:  # gated
        n = stage["n_out"]
        out = torch.addcmul(stage["after"], out[:, :n], torch.sigmoid(out[:, n:]))
    if stage["slope"] is not None:
        out = F.leaky_relu_(out, stage["slope"]) if stage["slope"] else out.relu_()
    return out
