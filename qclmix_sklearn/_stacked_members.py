"""k copies of one network trained as one: weights stacked along a leading member dimension.

The members of a cross-fit ensemble are small networks whose training steps
cost mostly per-step framework overhead. Stacking their weights (as
``torch.func.stack_module_state`` does) and running the k forward passes,
losses and backward passes as one vectorised (``vmap``) computation pays that
overhead once per step instead of k times. Nothing is shared between the
members: member ``i``'s loss depends on its slice of the stacked weights
only, so the gradient of the summed losses is each member's own gradient,
and AdamW, being elementwise, updates each slice exactly as a separate
AdamW would. The members' parameters live in one ``(k, n_params)`` tensor
so that the optimizer step is a handful of operations in all.
"""

import copy
from functools import partial

import torch
from torch.func import functional_call, vmap

from ._stacked_layers import make_stacked

__all__ = ["StackedAdamW", "StackedMembers"]


class StackedMembers:
    """The weights of k modules of one class (and of their criteria), stacked.

    Generic over the module: any ``nn.Module`` whose forward is a function of
    its parameters, buffers and input (no randomness, no data-dependent
    control flow) can be stacked. BatchNorm running statistics are stacked
    buffers, updated in place member by member inside the vectorised forward.

    Parameters
    ----------
    modules : list of nn.Module
        The k members, identical in structure (their weights may differ).
    criteria : list of nn.Module
        Each member's loss, called as ``criterion(module(X), y)`` or
        ``criterion(module(X), y, sample_weight=w)``; its learnable parameters
        (e.g. class centroids) are stacked and trained too.
    """

    def __init__(self, modules, criteria):
        self.n_members = len(modules)
        self._module = copy.deepcopy(modules[0]).to("meta").train()
        self._criterion = copy.deepcopy(criteria[0]).to("meta")
        self._names, self._shapes, self._owner = [], [], []
        tensors = []
        for owner, members in (("module", modules), ("criterion", criteria)):
            for name, _ in members[0].named_parameters():
                stacked = torch.stack([dict(m.named_parameters())[name].detach()
                                       for m in members])
                self._names.append(name)
                self._shapes.append(stacked.shape[1:])
                self._owner.append(owner)
                tensors.append(stacked.flatten(1))
        self._sizes = [t.shape[1] for t in tensors]
        #: (k, n_params): every parameter of every member, one leaf tensor.
        self.flat = torch.cat(tensors, dim=1).contiguous().requires_grad_(True)
        # Known layers run the members with batched operations (see
        # _stacked_layers); any other module runs through vmap.
        self._current = {}
        self._native = make_stacked(self._module, lambda: self._current)
        self.buffers = {
            name: torch.stack([dict(m.named_buffers())[name] for m in modules]).clone()
            for name, _ in modules[0].named_buffers()
        }

    # -- the members' weights ---------------------------------------------
    def _parameters(self, flat):
        """Views of ``flat`` (rows: members) as the module's and criterion's parameters."""
        module, criterion = {}, {}
        for name, shape, owner, part in zip(self._names, self._shapes, self._owner,
                                            flat.split(self._sizes, dim=1)):
            (module if owner == "module" else criterion)[name] = part.view(-1, *shape)
        return module, criterion

    def state_dicts(self, i):
        """Member ``i``'s ``(module state_dict, criterion parameters)``, detached copies."""
        module, criterion = self._parameters(self.flat.detach()[i:i + 1])
        state = {name: t[0].clone() for name, t in module.items()}
        state.update({name: b[i].clone() for name, b in self.buffers.items()})
        return state, {name: t[0].clone() for name, t in criterion.items()}

    def module_state(self, i):
        """Member ``i``'s module weights and buffers (for checkpointing)."""
        return self.state_dicts(i)[0]

    def load_module_state(self, i, state):
        """Write a :meth:`module_state` back into member ``i``."""
        with torch.no_grad():
            module, _ = self._parameters(self.flat[i:i + 1])
            for name, t in module.items():
                t[0].copy_(state[name])
            for name, b in self.buffers.items():
                b[i].copy_(state[name])

    # -- computations -------------------------------------------------------
    def losses(self, X, y, sample_weight=None, members=None):
        """Each member's training loss on its own batch: ``(g,)`` for ``X`` ``(g, B, ...)``.

        ``members`` (indices, default all): which members the g batches belong
        to. Training mode: BatchNorm uses batch statistics and updates the
        members' running statistics.
        """
        flat = self.flat if members is None else self.flat[members]
        buffers = self.buffers if members is None else {
            name: b[members] for name, b in self.buffers.items()}
        module, criterion = self._parameters(flat)
        if not self._module.training:  # train() walks every submodule: only on a switch
            self._module.train()

        out = self._run(module, buffers, X)
        takes_members = getattr(self._criterion, "takes_member_dimension", None)
        if callable(takes_members) and takes_members(X.shape[1]):
            # The criterion computes all members' losses at once, without
            # vmap (which costs several times the plain operations on a CPU).
            kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
            values = functional_call(self._criterion, criterion, (out, y), kwargs,
                                     tie_weights=False)
        else:
            def loss(criterion_params, out, y, w):
                kwargs = {} if w is None else {"sample_weight": w}
                return functional_call(self._criterion, criterion_params, (out, y), kwargs,
                                       tie_weights=False)

            in_w = None if sample_weight is None else 0
            values = vmap(loss, in_dims=(0, 0, 0, in_w))(criterion, out, y, sample_weight)
        if members is not None:  # running statistics were updated in the copies
            with torch.no_grad():
                for name, b in self.buffers.items():
                    b[members] = buffers[name]
        return values

    @staticmethod
    def _forward(module, params, buffers, X):
        return functional_call(module, (params, buffers), (X,), tie_weights=False)

    def _run(self, module_params, buffers, X, method=None):
        """The members' module outputs on ``X`` (k, n, ...), natively or through vmap."""
        if self._native:
            self._current = {**module_params, **buffers}
            try:
                forward = self._module if method is None else getattr(self._module, method)
                return forward(X)
            finally:
                self._current = {}
        if method is None:
            return vmap(partial(self._forward, self._module))(module_params, buffers, X)
        return vmap(partial(_call_method, self._module, method))(module_params, buffers, X)

    @torch.no_grad()
    def outputs(self, X, method=None, members=None):
        """Eval-mode outputs of the members on their inputs ``X`` (g, n, ...).

        ``method``: a method of the module to call instead of ``forward``.
        """
        flat = self.flat.detach() if members is None else self.flat.detach()[members]
        buffers = self.buffers if members is None else {
            name: b[members] for name, b in self.buffers.items()}
        module, _ = self._parameters(flat)
        if self._module.training:  # the private copy switches only through here
            self._module.eval()

        return self._run(module, buffers, X, method)


def _call_method(module, method, params, buffers, X):
    """``module.method(X)`` with the given parameters and buffers (for vmap)."""
    from torch.nn.utils.stateless import _reparametrize_module

    with _reparametrize_module(module, {**params, **buffers}):
        return getattr(module, method)(X)


class StackedAdamW:
    """AdamW over a ``(k, n)`` tensor whose rows are k independent parameter vectors.

    Each row has its own step count, learning rate and ``beta1`` (a one-cycle
    schedule cycles both) and only the rows named ``active`` take a step, so
    the update of every row is that of a separate ``torch.optim.AdamW``
    (same formula; the fused kernel may round differently in the last bit).
    """

    def __init__(self, flat, weight_decay=1e-2, beta2=0.999, eps=1e-8):
        self.flat = flat
        self.weight_decay = weight_decay
        self.beta2 = beta2
        self.eps = eps
        self.exp_avg = torch.zeros_like(flat, memory_format=torch.preserve_format).detach()
        self.exp_avg_sq = torch.zeros_like(self.exp_avg)
        self.steps = torch.zeros(flat.shape[0], dtype=torch.float64)

    @torch.no_grad()
    def step(self, lr, beta1, active):
        """One step of the rows ``active`` (bool list); ``lr``, ``beta1``: one per row."""
        rows = [i for i, a in enumerate(active) if a]
        if not rows:
            return
        every = len(rows) == self.flat.shape[0]
        index = None if every else torch.tensor(rows, device=self.flat.device)

        def take(t):
            return t if every else t[index]

        param, grad = take(self.flat.detach()), take(self.flat.grad)
        exp_avg, exp_avg_sq = take(self.exp_avg), take(self.exp_avg_sq)
        self.steps[rows] += 1
        steps = self.steps[rows]
        lr = torch.tensor([lr[i] for i in rows], dtype=torch.float64)
        beta1 = torch.tensor([beta1[i] for i in rows], dtype=torch.float64)
        bias_correction1 = 1 - beta1 ** steps
        bias_correction2_sqrt = (1 - self.beta2 ** steps).sqrt()

        def column(values):
            return values.to(param.device, param.dtype)[:, None]

        param.mul_(column(1 - lr * self.weight_decay))
        exp_avg.lerp_(grad, column(1 - beta1))
        exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        denom = (exp_avg_sq.sqrt() / column(bias_correction2_sqrt)).add_(self.eps)
        param.sub_(exp_avg.div(denom).mul_(column(lr / bias_correction1)))
        if not every:
            self.flat.detach().index_copy_(0, index, param)
            self.exp_avg.index_copy_(0, index, exp_avg)
            self.exp_avg_sq.index_copy_(0, index, exp_avg_sq)
