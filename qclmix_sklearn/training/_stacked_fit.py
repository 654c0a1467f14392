"""Train the members of an ensemble together: one vectorised step for all of them.

:func:`fit_stacked` trains k skorch nets, built and initialised exactly as for
k separate fits, with their weights stacked (:class:`StackedMembers`) and one
optimizer step (:class:`StackedAdamW`) per training step. skorch's own
``fit_loop`` runs it, as it runs every other torch model of the package: a
:class:`StackedNet` whose batches are the members' steps (``train_step``) and
whose callback starts and ends each member's epoch. What stays each member's
own is what a separate fit has: its training rows, batch order (its own
generator), mixup draws (its own
:class:`~qclmix_sklearn.training._mixup.KNNMixup` random stream) and
learning-rate schedule; members whose epochs have fewer batches, or whose
training stopped early, simply sit out the remaining steps. Everything else
is each member net's own skorch machinery, notified as its own ``fit_loop``
would notify it: its history, validation epoch (``run_single_epoch``),
macro-F1 scoring, early stopping with its best weights, epoch timer and the
non-finite-loss guard's check; its LRScheduler's scheduler gives the rates. At
the end every net's module holds its member's kept weights and its history
the epochs it ran, as if it had been fitted alone.

Each member trains as its net's
:class:`~qclmix_sklearn.training._training_plan.TrainingPlan` says, the plan
its net was built from. Only nets whose training the stacked loop
reproduces are stacked (see :func:`can_stack`): a pytorch-metric-learning
loss, a progress bar or the epoch log fall back to separate fits.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, LRScheduler
from torch import nn

from ._callbacks import check_finite_loss
from ._captured_step import CapturedStep
from ._mixup import KNNMixup, mix_batches, next_draws
from ._stacked_members import StackedAdamW, StackedMembers
from ._tensor_batches import epoch_order

__all__ = ["can_stack", "fit_stacked"]


def can_stack(nets):
    """Whether :func:`fit_stacked` reproduces the separate fits of these initialised nets.

    It trains what each net's :class:`~qclmix_sklearn.training._training_plan.TrainingPlan`
    says. Every member needs validation rows, a silent net, no callbacks of
    its own but kNN mixup, and a criterion that runs stacked (this package's
    losses do; pytorch-metric-learning's are not known to).
    """
    from ..losses import HybridLoss, SupConTripletLoss

    for net in nets:
        plan, criterion = net.training_plan_, net.criterion_
        if plan.patience is None or plan.verbose or not plan.shuffle:
            return False
        if any(not isinstance(callback, KNNMixup) for _, callback in plan.callbacks):
            return False
        if isinstance(criterion, HybridLoss) and not isinstance(criterion.metric,
                                                                SupConTripletLoss):
            return False
    return len(nets) > 1


class _Member:
    """One member's own training state: rows, batch order, rates, and its net's callbacks."""

    def __init__(self, index, net, fit_rows, stack, device):
        plan = net.training_plan_
        self.index = index  # position among the stacked members
        self.net = net
        self.plan = plan
        self.fit_rows = torch.as_tensor(fit_rows, device=device)
        self.batch_size = plan.batch_size
        self.draw_weight = None if plan.draw_weight is None else torch.as_tensor(
            plan.draw_weight, dtype=torch.float64)
        self.n_batches = plan.n_batches
        self.mixup = plan.mixup
        self.running = True
        # The net validates on the member's current weights, copied from the stack.
        self.load_weights = stack.member_loader(index, net.module_)
        # What the net's callbacks get at each epoch's start and end, as from
        # its own fit_loop. Of the training data they read the length only
        # (kNN mixup's draws): the member's row indices stand for it.
        dataset_valid = net.train_split(None)[1]  # the net's predefined split
        self.epoch_kwargs = {"dataset_train": self.fit_rows, "dataset_valid": dataset_valid}
        self.valid_batches = net.get_iterator(dataset_valid)
        net.notify("on_train_begin", X=self.fit_rows, y=None)
        self.schedule = next((callback for _, callback in net.callbacks_
                              if isinstance(callback, LRScheduler)), None)
        if self.schedule is not None:
            # The net's optimizer never trains (StackedAdamW does): a step
            # without gradients, a no-op, tells its scheduler it may step.
            net.optimizer_.step()

    def epoch_schedule(self):
        """``[(lr, beta1)]`` of each of the member's steps in the coming epoch.

        The net's scheduler is stepped through the whole epoch at its start
        (a member runs all its batches of an epoch), as its LRScheduler
        callback would step it after each batch, so that a step reads its
        rate from this table.
        """
        group = self.net.optimizer_.param_groups[0]
        table = []
        for _ in range(self.n_batches):
            table.append((group["lr"], group["betas"][0]))
            if self.schedule is not None:
                self.schedule.lr_scheduler_.step()
        return table

    def epoch_order(self):
        """The member's rows in its epoch's order, as its ``TensorBatches`` would visit them."""
        order = epoch_order(len(self.fit_rows), self.plan.generator, self.draw_weight)
        return self.fit_rows[order.to(self.fit_rows.device)]

    def begin_epoch(self):
        """Start the net's epoch (its history, timer, mixup draws); order and rate its steps."""
        self.net.notify("on_epoch_begin", **self.epoch_kwargs)
        self.order = self.epoch_order()
        self.rates = self.epoch_schedule()
        self.losses = []

    def end_epoch(self):
        """Record the epoch's batches; validate, score, checkpoint and maybe stop the member.

        The training batches are recorded as skorch's ``run_single_epoch``
        and LRScheduler record them; the rest is the net's own: its
        validation epoch on the member's current weights, then its
        ``on_epoch_end`` callbacks, whose early stopping ends the member's
        training.
        """
        net = self.net
        for (value, size), (lr, _) in zip(self.losses, self.rates):
            net.history.new_batch()
            net.history.record_batch("train_loss", value)
            net.history.record_batch("train_batch_size", size)
            if self.schedule is not None and self.schedule.event_name is not None:
                net.history.record_batch(self.schedule.event_name, lr)
        net.history.record("train_batch_count", len(self.losses))
        self.load_weights()
        net.run_single_epoch(self.valid_batches, training=False, prefix="valid",
                             step_fn=net.validation_step)
        try:
            net.notify("on_epoch_end", **self.epoch_kwargs)
        except KeyboardInterrupt:  # how skorch's EarlyStopping ends a fit
            self.running = False
        if len(net.history) == self.plan.max_epochs:
            self.running = False


def fit_stacked(nets, data, parts, capture=None):
    """Train the initialised skorch ``nets`` (one per ``(fit_rows, valid_rows)`` of ``parts``).

    ``data``: all training rows and where they train
    (:class:`~qclmix_sklearn._estimator._torch_base.FitData`; its seed is unused: each
    net holds its own generators). skorch's ``fit_loop`` runs the epochs
    (:class:`StackedNet`): each of its batches is one step of every member
    that trains in it. Each net ends with its best epoch's module weights, its
    last epoch's criterion and its history. Raises ``FloatingPointError``
    when a member's loss becomes non-finite, like a separate fit.

    On a GPU the steps in which every member trains on a full batch replay
    one CUDA graph (:class:`~qclmix_sklearn.training._captured_step.CapturedStep`).
    ``capture='eager'`` runs that step's code without a graph, on any
    device (for tests); ``'off'`` trains every step as on the CPU (for
    benchmarks).
    """
    training = _StackedTraining(nets, data, parts, capture)
    StackedNet.for_members(training).fit(training.X_all, training.y_all)
    training.write_back()
    return nets


class _StackedTraining:
    """The members' state over a fit: what the driver net's hooks read and advance."""

    def __init__(self, nets, data, parts, capture):
        sample_weight, self.device = data.sample_weight, data.device
        self.X_all = torch.as_tensor(data.X).to(self.device)
        self.y_all = torch.as_tensor(data.y).to(self.device)
        self.w_all = None if sample_weight is None else torch.as_tensor(
            sample_weight, dtype=torch.float32).to(self.device)
        # The fitting rows' weights reach the loss through w_all (the plans'
        # row weights are their slices).
        self.stack = StackedMembers([net.module_ for net in nets],
                                    [net.criterion_ for net in nets])
        self.members = [_Member(i, net, fit, self.stack, self.device)
                        for i, (net, (fit, _)) in enumerate(zip(nets, parts))]
        self.optimizer = StackedAdamW(self.stack.flat, self.stack.leaves,
                                      weight_decay=nets[0].training_plan_.weight_decay)
        self.captured = None
        if capture == "eager" or capture is None and torch.device(self.device).type == "cuda":
            self.captured = CapturedStep(self.stack, self.optimizer, self.members, self.X_all,
                                         self.y_all, self.w_all, graph=capture != "eager")
        self.max_epochs = nets[0].training_plan_.max_epochs

    def begin_epoch(self):
        self.running = [m for m in self.members if m.running]
        for m in self.running:
            m.begin_epoch()
        if self.captured is not None:
            self.captured.new_epoch(self.members)
        # The steps' losses stay on the device until the epoch ends: one host
        # sync per epoch, not one per step.
        self.step_losses = []

    def steps(self):
        """The epoch's steps: each member that still has a batch, with its rows."""
        for step in range(max(m.n_batches for m in self.running)):
            active = [m for m in self.running if step < m.n_batches]
            for m in active:
                m.rows = m.order[step * m.batch_size:(step + 1) * m.batch_size]
            yield _Step(active, step)

    def train_step(self, batch):
        """One optimizer step of the step's members, each on its own batch."""
        active, step = batch.active, batch.step
        if self.captured is not None and self.captured.takes(active, self.members):
            self.step_losses.append(self.captured.step(self.members, step))
            return
        self.stack.zero_grad()
        self.step_losses.extend(_forward_backward(self.stack, self.members, active,
                                                  self.X_all, self.y_all, self.w_all))
        # A member that sits this step out reads no rate (its table may have ended).
        lr, beta1 = zip(*(m.rates[step] if m in active else (0.0, 0.0) for m in self.members))
        self.optimizer.step(lr, beta1, [m in active for m in self.members])

    def end_epoch(self):
        """Record, score and checkpoint the epoch of every member; whether any still trains."""
        _record_losses(self.step_losses)
        for m in self.running:
            m.end_epoch()
        return any(m.running for m in self.members)

    def write_back(self):
        """Each net: its member's criterion; its best (else last) weights, as its own fit ends.

        The net's module holds the member's last weights (loaded for its last
        validation); its EarlyStopping, notified that training ended, puts
        back those of its best epoch.
        """
        for m in self.members:
            with torch.no_grad():
                for name, value in self.stack.criterion_state(m.index).items():
                    m.net.criterion_.get_parameter(name).copy_(value)
            m.net.notify("on_train_end", X=m.fit_rows, y=None)


class _Step:
    """One batch of the driver: the members that train in this step, and its index."""

    def __init__(self, active, step):
        self.active, self.step = active, step

    def __len__(self):  # what skorch records as the batch's size
        return len(self.active)


class _MemberSteps:
    """The driver's training iterator: the epoch's steps (see ``_StackedTraining.steps``)."""

    def __init__(self, dataset, training, **kwargs):
        self.training = training

    def __iter__(self):
        return self.training.steps()


class _MemberEpochs(Callback):
    """Each epoch's start and end for every member that still trains; stops when none does."""

    def __init__(self, training):
        self.training = training

    def on_epoch_begin(self, net, **kwargs):
        self.training.begin_epoch()

    def on_epoch_end(self, net, **kwargs):
        if not self.training.end_epoch():
            raise KeyboardInterrupt  # how skorch's callbacks end a fit early


# What skorch's loop records of a step: the members' losses are read once per
# epoch, so a step hands it no loss (reading one would wait for the device).
_NO_LOSS = torch.zeros(())


class StackedNet(NeuralNet):
    """The skorch net whose ``fit_loop`` trains stacked members: one batch, one step of all.

    Its module and criterion are placeholders; the members' weights, losses
    and optimizer (:class:`StackedAdamW`) live in the training state its hooks
    share (``_StackedTraining``): ``train_step`` runs one step of the
    members, and a callback each epoch's start (orders, mixup draws, rates)
    and end (losses, then each member net's validation and callbacks).
    """

    @classmethod
    def for_members(cls, training):
        net = cls(
            module=nn.Identity(), criterion=nn.Identity(), max_epochs=training.max_epochs,
            iterator_train=_MemberSteps, iterator_train__training=training, train_split=None,
            callbacks=[("members", _MemberEpochs(training))], callbacks__print_log=None,
            device=training.device, verbose=0,
        )
        net.training_state_ = training
        return net

    def initialize_optimizer(self, triggered_directly=None):
        self.optimizer_ = self.training_state_.optimizer
        return self

    def train_step(self, batch, **fit_params):
        self.training_state_.train_step(batch)
        return {"loss": _NO_LOSS, "y_pred": None}


def _forward_backward(stack, members, active, X_all, y_all, w_all):
    """The forward and backward passes of the ``active`` members, each on its own batch.

    Returns ``[(group, losses, batch size)]``: the members of each group and
    their losses (a detached device tensor), for :func:`_record_losses`.
    """
    # Members whose batch has the same size run as one vectorised group.
    groups = {}
    for m in active:
        groups.setdefault(len(m.rows), []).append(m)
    total, recorded = None, []
    for size, group in groups.items():
        index = [m.index for m in group]
        rows = torch.stack([m.rows for m in group])
        X = X_all[rows]
        y = y_all[rows]
        if group[0].mixup is not None:
            X = _mixed(stack, group, index, X, y)
        w = None if w_all is None else w_all[rows]
        losses = stack.losses(X, y, w, members=None if len(index) == len(members) else index)
        total = losses.sum() if total is None else total + losses.sum()
        recorded.append((group, losses.detach(), size))
    total.backward()
    return recorded


def _record_losses(step_losses):
    """Each member's batch losses of the epoch, ``m.losses``: ``[(value, batch size)]``.

    Raises ``FloatingPointError`` at a member's first non-finite loss, as a
    separate fit's guard does (here once the epoch's steps have run).
    """
    if not step_losses:
        return
    values = torch.cat([losses for _, losses, _ in step_losses]).tolist()
    position = 0
    for group, _, size in step_losses:
        for m in group:
            value = values[position]
            position += 1
            m.losses.append((value, size))
            check_finite_loss(value, len(m.net.history))


def _mixed(stack, group, index, X, y):
    """The kNN mixes of the group's batches, each with its member's draws and settings."""
    uniform, lam = next_draws(group, X.shape[1], X.device)
    return mix_batches(stack, group[0].mixup, index, X, y, uniform, lam)
