"""AdamW over one flat tensor that holds every parameter of a small network."""

import torch


class FlatAdamW(torch.optim.AdamW):
    """``torch.optim.AdamW`` whose parameters become views of one flat tensor.

    AdamW is elementwise and here every parameter is in one group (one lr,
    one weight decay, one step count), so updating a flat tensor that holds
    them all is mathematically the same update, in one call instead of one
    per parameter tensor (~two dozen for QCL-MixNet and its loss). It is not
    faster by much: a paper-configuration fit takes the same time as with
    ``AdamW(fused=True)`` to within the noise, an MLP or ResNet baseline fit
    3-10% less (``benchmarks/perf/flat_adamw.py``). It stays because it is
    not the same to the bit: torch's fused CPU kernel rounds a few elements
    in 100,000 differently depending on where they lie in their tensor,
    training amplifies that, and the stored benchmark results of the
    estimators that train through skorch were made with this optimizer.

    At its first step, once every parameter has a gradient, the optimizer
    makes each parameter's data a view of one flat tensor and
    its gradient a view of one flat gradient (autograd then accumulates into
    those views); ``zero_grad`` zeroes the flat gradient (a gradient replaced
    by another tensor is copied back into it). The parameters stay
    the module's own objects: state dicts, checkpoints and schedulers see no
    difference.

    It stays an ordinary AdamW when it cannot flatten: several parameter
    groups, mixed devices or dtypes, sparse gradients, or a parameter without
    a gradient in the first step. Once flat, a parameter that gets no
    gradient in a later step is updated as if its gradient were zero (an
    ordinary AdamW would skip it); the networks here use every parameter in
    every step.
    """

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self._flat = None
        self._tried = False

    def zero_grad(self, set_to_none=True):
        if self._flat is None:
            super().zero_grad(set_to_none=set_to_none)
        else:
            self._flat.grad.zero_()

    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not self._tried:
            self._tried = True
            self._flatten()
        elif self._flat is not None:
            self._gather_stray_gradients()
        super().step()
        return loss

    def _gather_stray_gradients(self):
        # A gradient set to None (e.g. by module.zero_grad()) and recomputed
        # is a new tensor: copy it into the flat gradient and view it again.
        for p, view in zip(self._params, self._views):
            if p.grad is not view:
                if p.grad is None:
                    view.zero_()
                else:
                    view.copy_(p.grad)
                p.grad = view

    def _flatten(self):
        if len(self.param_groups) != 1 or self.state:
            return
        group = self.param_groups[0]
        params = group["params"]
        first = params[0]
        if any(p.grad is None or p.grad.is_sparse or p.dtype != first.dtype
               or p.device != first.device for p in params):
            return
        with torch.no_grad():
            flat = torch.cat([p.detach().reshape(-1) for p in params])
            grad = torch.cat([p.grad.reshape(-1) for p in params])
            offset, views = 0, []
            for p in params:
                size = p.numel()
                p.data = flat[offset:offset + size].view_as(p)
                p.grad = grad[offset:offset + size].view_as(p)
                views.append(p.grad)
                offset += size
        flat.requires_grad_(True)
        flat.grad = grad
        group["params"] = [flat]
        self._flat, self._params, self._views = flat, list(params), views
