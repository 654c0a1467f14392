"""k copies of one network trained as one: weights stacked along a leading member dimension.

The members of a cross-fit ensemble are small networks whose training steps
cost mostly per-step framework overhead. Stacking their weights (as
``torch.func.stack_module_state`` does) and running the k forward passes,
losses and backward passes as one vectorised computation pays that
overhead once per step instead of k times. Nothing is shared between the
members: member ``i``'s loss depends on its slice of the stacked weights
only, so the gradient of the summed losses is each member's own gradient,
and AdamW, being elementwise, updates each slice exactly as a separate
AdamW would.

All parameters of all members live in one flat tensor, parameter after
parameter (each parameter's k copies one contiguous block), and the
stacked parameters the computations use are persistent views of it, as
their gradients are views of one flat gradient. A step thus builds no
views of its own, autograd accumulates the gradients straight into the
flat gradient, and the optimizer step is one fused AdamW kernel for all
members (:class:`StackedAdamW`).
"""

import copy
from functools import partial

import torch
from torch.func import functional_call, vmap
from torch.optim.adamw import adamw

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
        (e.g. class centroids) are stacked and trained too. A criterion whose
        ``accepts_leading_dimensions`` is true is called once for all
        members (inputs and parameters with a leading member dimension);
        any other runs member by member through ``vmap``.
    """

    def __init__(self, modules, criteria):
        self.n_members = len(modules)
        self._module = copy.deepcopy(modules[0]).to("meta").train()
        self._criterion = copy.deepcopy(criteria[0]).to("meta")
        names, owners, blocks = [], [], []
        for owner, members in (("module", modules), ("criterion", criteria)):
            for name, _ in members[0].named_parameters():
                names.append(name)
                owners.append(owner)
                blocks.append(torch.stack([dict(m.named_parameters())[name].detach()
                                           for m in members]))
        #: Every parameter of every member, one leaf tensor (parameter by parameter).
        self.flat = torch.cat([b.reshape(-1) for b in blocks]).requires_grad_(True)
        self.flat.grad = torch.zeros_like(self.flat)
        sizes = [b.numel() for b in blocks]
        #: name -> (k, ...) leaf: the members' copies of the module's (criterion's)
        #: parameter, a view of ``flat`` whose gradient is a view of ``flat.grad``.
        self.module_params, self.criterion_params = {}, {}
        #: The stacked leaves in ``flat``'s order (what :class:`StackedAdamW` updates).
        self.leaves = []
        for name, owner, block, data, grad in zip(names, owners, blocks,
                                                  self.flat.detach().split(sizes),
                                                  self.flat.grad.split(sizes)):
            # detach(): a leaf of its own (not an autograd view of flat) on flat's storage.
            leaf = data.view(block.shape).detach().requires_grad_(True)
            leaf.grad = grad.view(block.shape)
            (self.module_params if owner == "module" else self.criterion_params)[name] = leaf
            self.leaves.append(leaf)
        # A network with a member form (QCLMixNet: see nn._members) runs the
        # members with batched operations; any other module through vmap.
        self._native = callable(getattr(self._module, "forward_members", None))
        self.buffers = {
            name: torch.stack([dict(m.named_buffers())[name] for m in modules]).clone()
            for name, _ in modules[0].named_buffers()
        }

    # -- the members' weights ---------------------------------------------
    def zero_grad(self):
        """Zero every member's gradients (in place: the leaves' gradients stay views)."""
        self.flat.grad.zero_()

    def member_loader(self, i, module):
        """A function that copies member ``i``'s current weights and buffers into ``module``.

        ``module`` is one of the k, unstacked. The pairs of tensors are found
        once: a member's rows are views of storage that never moves.
        """
        with torch.no_grad():
            pairs = [(p, self.module_params[name][i]) for name, p in module.named_parameters()]
            pairs += [(b, self.buffers[name][i]) for name, b in module.named_buffers()]

        @torch.no_grad()
        def load():
            for target, source in pairs:
                target.copy_(source)

        return load

    def criterion_state(self, i):
        """Member ``i``'s criterion parameters (e.g. class centroids), detached copies."""
        return {name: p.detach()[i].clone() for name, p in self.criterion_params.items()}

    # -- computations -------------------------------------------------------
    def losses(self, X, y, sample_weight=None, members=None):
        """Each member's training loss on its own batch: ``(g,)`` for ``X`` ``(g, B, ...)``.

        ``members`` (indices, default all): which members the g batches belong
        to. Training mode: BatchNorm uses batch statistics and updates the
        members' running statistics. Backward accumulates into ``flat.grad``.
        """
        module, criterion, buffers = self._members(members)
        if not self._module.training:  # train() walks every submodule: only on a switch
            self._module.train()

        out = self._run(module, buffers, X)
        if getattr(self._criterion, "accepts_leading_dimensions", False):
            # The criterion computes all members' losses at once, without
            # vmap (which costs several times the plain operations on a CPU).
            values = self._criterion_loss(criterion, out, y, sample_weight)
        else:
            in_w = None if sample_weight is None else 0
            values = vmap(self._criterion_loss, in_dims=(0, 0, 0, in_w))(
                criterion, out, y, sample_weight)
        if members is not None:  # running statistics were updated in the copies
            with torch.no_grad():
                for name, b in self.buffers.items():
                    b[members] = buffers[name]
        return values

    def _members(self, members):
        """The module's and criterion's parameters and the buffers of ``members`` (None: all)."""
        if members is None:
            return self.module_params, self.criterion_params, self.buffers
        index = torch.tensor(members, device=self.flat.device)
        return ({name: p[index] for name, p in self.module_params.items()},
                {name: p[index] for name, p in self.criterion_params.items()},
                {name: b[index] for name, b in self.buffers.items()})

    def _criterion_loss(self, params, out, y, sample_weight):
        """The private criterion's loss with ``params`` as its parameters."""
        kwargs = {} if sample_weight is None else {"sample_weight": sample_weight}
        return functional_call(self._criterion, params, (out, y), kwargs)

    @staticmethod
    def _forward(module, params, buffers, X):
        return functional_call(module, (params, buffers), (X,), tie_weights=False)

    def _run(self, module_params, buffers, X):
        """The members' module outputs on ``X`` (k, n, ...), natively or through vmap."""
        if self._native:
            return self._module.forward_members(X, {**module_params, **buffers})
        return vmap(partial(self._forward, self._module))(module_params, buffers, X)

    @torch.no_grad()
    def outputs(self, X, members=None):
        """Eval-mode outputs of the members on their inputs ``X`` (g, n, ...)."""
        module, _, buffers = self._members(members)
        if self._module.training:  # the private copy switches only through here
            self._module.eval()

        return self._run(module, buffers, X)


class StackedAdamW:
    """AdamW over k independent parameter vectors stored in stacked blocks.

    ``flat`` is the 1-D tensor whose consecutive blocks are ``leaves``, each
    ``(k, ...)`` with row ``i`` member ``i``'s copy of one parameter and its
    gradient a view of ``flat.grad`` (as :class:`StackedMembers` lays them
    out). Each member has its own step count, learning rate and ``beta1`` (a
    one-cycle schedule cycles both) and only the members named ``active``
    take a step. The update is ``torch.optim.AdamW(fused=True)``'s kernel
    (AdamW with torch's defaults but the weight decay), run once on the
    whole flat tensor when every member steps with the same settings, as
    they do in all but the odd step, else once per group of members that
    share them; each member's update is that of a separate
    ``torch.optim.AdamW(fused=True)``, which the flat AdamW of separate
    fits runs too. (A stock AdamW over the stacked tensors cannot: it has one
    step count and rate for the whole of a tensor, and one member's step
    would move the others' rows, even with a zero gradient, by its momentum
    and weight decay.)
    """

    def __init__(self, flat, leaves, weight_decay=1e-2, beta2=0.999, eps=1e-8):
        self.flat = flat
        self.weight_decay = weight_decay
        self.beta2 = beta2
        self.eps = eps
        self.n_members = k = leaves[0].shape[0]
        self.exp_avg = torch.zeros_like(flat, memory_format=torch.preserve_format).detach()
        self.exp_avg_sq = torch.zeros_like(self.exp_avg)
        # AdamW(fused=True)'s step counts: a float32 scalar tensor (one per member).
        self.steps = [torch.zeros((), dtype=torch.float32, device=flat.device) for _ in range(k)]
        self._counts = [0] * k

        def rows(tensor):
            blocks = tensor.split([leaf.numel() for leaf in leaves])
            return [[b.view(leaf.shape)[i] for b, leaf in zip(blocks, leaves)]
                    for i in range(k)]

        # The member of each element of flat (for step_all_on_device).
        self._member_of = torch.cat([
            torch.arange(k, device=flat.device).repeat_interleave(leaf[0].numel())
            for leaf in leaves])
        # Member i's parameters, gradients and moments: its rows of every block.
        self._rows = [rows(flat.detach()), rows(flat.grad), rows(self.exp_avg),
                      rows(self.exp_avg_sq)]

    @torch.no_grad()
    def step(self, lr, beta1, active):
        """One step of the members ``active`` (bool list); ``lr``, ``beta1``: one per member."""
        groups = {}
        for i, on in enumerate(active):
            if on:
                self._counts[i] += 1
                groups.setdefault((lr[i], beta1[i], self._counts[i]), []).append(i)
        if not groups:
            return
        if len(groups) == 1 and all(active):
            (lr_g, beta1_g, _), rows = next(iter(groups.items()))
            self._fused(lr_g, beta1_g, [self.flat.detach()], [self.flat.grad],
                        [self.exp_avg], [self.exp_avg_sq], [self.steps[0]])
        else:
            params, grads, exp_avgs, exp_avg_sqs = self._rows
            for (lr_g, beta1_g, _), rows in groups.items():
                def gather(per_member):
                    return [t for i in rows for t in per_member[i]]

                steps = [self.steps[i] for i in rows for _ in params[i]]
                self._fused(lr_g, beta1_g, gather(params), gather(grads), gather(exp_avgs),
                            gather(exp_avg_sqs), steps)
        torch._foreach_add_([self.steps[i] for i in range(self.n_members) if active[i]], 1)

    @torch.no_grad()
    def step_all_on_device(self, lr, beta1):
        """One step of every member, ``lr`` and ``beta1`` ``(k,)`` tensors on the device.

        No value comes from the host, so a CUDA graph can capture it (the
        fused kernel takes them as host numbers). AdamW's update as
        ``torch.optim.AdamW(capturable=True)`` writes it, with each member's
        numbers spread over its parameters; equal to :meth:`step` up to
        float rounding. The host-side step counts are the caller's to add
        (:meth:`count_all`): a captured step runs without its Python.
        """
        torch._foreach_add_(self.steps, 1)
        step = torch.stack(self.steps)
        rate = (lr / (1 - beta1 ** step))[self._member_of]
        correction2 = (1 - self.beta2 ** step).sqrt()[self._member_of]
        param, grad = self.flat.detach(), self.flat.grad
        param.mul_(1 - lr[self._member_of] * self.weight_decay)
        self.exp_avg.lerp_(grad, (1 - beta1)[self._member_of])
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        denominator = (self.exp_avg_sq.sqrt() / correction2).add_(self.eps)
        param.sub_(rate * self.exp_avg / denominator)

    def count_all(self):
        """Count a step of every member taken by :meth:`step_all_on_device`."""
        self._counts = [count + 1 for count in self._counts]

    def _fused(self, lr, beta1, params, grads, exp_avgs, exp_avg_sqs, steps):
        # torch's functional AdamW, fused: the kernel of AdamW(fused=True). It
        # counts the step on the counts it gets: copies of the members' (one per
        # tensor), which step() then counts once per member.
        adamw(params, grads, exp_avgs, exp_avg_sqs, [], [s.clone() for s in steps],
              fused=True, amsgrad=False, lr=lr, beta1=beta1, beta2=self.beta2,
              weight_decay=self.weight_decay, eps=self.eps, maximize=False)
