"""The stacked members' training step as one CUDA graph.

A step of the default ensemble on a GPU is a few hundred small kernels
(forward, the hybrid loss, backward, AdamW), each of which costs the host
more time to launch than the device takes to run it. Captured once in a CUDA
graph and replayed, the step costs one launch. A graph replays fixed kernels
on fixed memory, so everything that changes from step to step is copied into
static tensors first, on the device: the members' batch rows (their epoch
order is already there), their mixup draws (their epoch's table is), and
their learning rates and momenta (one table per epoch); the optimizer reads
them as tensors (:meth:`StackedAdamW.step_all_on_device`).

Only the steps in which every member trains on a full batch are captured:
that is all but the last step of an epoch, whose smaller batch (BatchNorm's
statistics are over the real rows: padding would change them) and the odd
step of a member with fewer batches run as before. The first few full steps
run the same code without a graph, as CUDA asks before a capture; a capture
that fails leaves the fit to those eager steps, with a warning.
"""

import warnings

import torch

from ._mixup import mix_batches, next_draws

__all__ = ["CapturedStep"]

# Full steps run eagerly (on a side stream) before the capture, so that
# lazily initialised state (cuBLAS handles, autograd buffers) exists.
_WARMUP_STEPS = 3


class CapturedStep:
    """The training step of all k members on full batches, replayed from a CUDA graph.

    Parameters
    ----------
    stack : StackedMembers
    optimizer : StackedAdamW
    members : list
        The members' training states (``_stacked_fit._Member``).
    X_all, y_all, w_all : torch.Tensor
        All training rows on the device (``w_all`` None: unweighted).
    graph : bool, default=True
        False runs the same step code without capturing it (any device).
    """

    def __init__(self, stack, optimizer, members, X_all, y_all, w_all, graph=True):
        self.stack, self.optimizer = stack, optimizer
        self.X_all, self.y_all, self.w_all = X_all, y_all, w_all
        self.batch_size = members[0].batch_size
        self.mixup = members[0].mixup
        device, k = X_all.device, len(members)
        self.rows = torch.zeros((k, self.batch_size), dtype=torch.long, device=device)
        self.draws = torch.zeros((2, k, self.batch_size), device=device)
        self.rates = torch.zeros((2, k), device=device)  # lr and beta1 of each member
        self.use_graph = graph
        self.graph, self.losses, self.warm = None, None, 0

    def takes(self, active, members):
        """Whether this step is one this class runs: every member on a full batch."""
        return (len(active) == len(members)
                and all(len(m.rows) == self.batch_size for m in members))

    def new_epoch(self, members):
        """Move the members' rates of the coming epoch to the device (one copy)."""
        steps = max(len(m.rates) for m in members)
        table = [[m.rates[min(s, len(m.rates) - 1)] for m in members] for s in range(steps)]
        self.epoch_rates = torch.tensor(table, dtype=torch.float32).permute(0, 2, 1).to(
            self.rows.device)  # (step, 2, k)

    def step(self, members, step):
        """One training step of every member; ``(members, losses, batch size)`` as recorded."""
        self.rows.copy_(torch.stack([m.rows for m in members]))
        if self.mixup is not None:
            self.draws.copy_(next_draws(members, self.batch_size, self.draws.device))
        self.rates.copy_(self.epoch_rates[step])
        if self.use_graph and self.graph is None and self.warm < _WARMUP_STEPS:
            losses = self._warm_up()
        elif self.use_graph and (self.graph is not None or self._capture()):
            self.graph.replay()
            losses = self.losses
        else:
            losses = self._body()
        self.optimizer.count_all()
        return members, losses.clone(), self.batch_size

    def _body(self):
        """The step itself, on the static tensors: what the graph captures."""
        self.stack.zero_grad()
        X, y = self.X_all[self.rows], self.y_all[self.rows]
        if self.mixup is not None:
            X = mix_batches(self.stack, self.mixup, None, X, y, self.draws[0], self.draws[1])
        w = None if self.w_all is None else self.w_all[self.rows]
        losses = self.stack.losses(X, y, w)
        losses.sum().backward()
        self.optimizer.step_all_on_device(self.rates[0], self.rates[1])
        return losses.detach()

    def _warm_up(self):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            losses = self._body()
        torch.cuda.current_stream().wait_stream(side)
        self.warm += 1
        return losses

    def _capture(self):
        """Capture :meth:`_body` (which a capture records, not runs); False if it fails."""
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.losses = self._body()
        except Exception as exc:  # noqa: BLE001 - any capture failure falls back
            warnings.warn(f"The training step could not be captured in a CUDA graph "
                          f"({type(exc).__name__}: {exc}); it runs without one.",
                          RuntimeWarning, stacklevel=3)
            self.use_graph = False
            return False
        self.graph = graph
        return True
