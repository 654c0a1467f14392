"""Running k stacked members of a network: the rule that composes the layers' member forms.

A layer's *member form* is ``layer.forward_members(x, tensors, prefix)``: its
forward for ``x`` of shape ``(k, n, ...)``, member ``i`` computed with its own
weights, read from ``tensors`` (the members' stacked parameters and buffers,
``name -> (k, ...)``, named as in the network's ``state_dict``; ``prefix`` is
the layer's place in it). It uses plain batched operations (``baddbmm``, one
``batch_norm`` over the members' channels side by side): ``torch.func.vmap``
over the plain forward costs several times as much on a CPU.
"""

from torch import nn

__all__ = ["forward_members"]


def forward_members(module, x, tensors, prefix=""):
    """``module``'s output for every member: ``x`` and the result ``(k, n, ...)``.

    A layer with a member form runs it; ``nn.Sequential`` chains its
    children's; a module without parameters or buffers (activations,
    ``nn.Identity``) acts on the last dimension alike for every member and
    runs as it is. Any other module raises ``TypeError``: it would need a
    member form of its own.
    """
    own = getattr(module, "forward_members", None)
    if own is not None:
        return own(x, tensors, prefix)
    if type(module) is nn.Sequential:
        for name, child in module.named_children():
            x = forward_members(child, x, tensors, f"{prefix}{name}.")
        return x
    if next(module.parameters(), None) is None and next(module.buffers(), None) is None:
        return module(x)
    raise TypeError(f"{type(module).__name__} has no member form (forward_members).")
