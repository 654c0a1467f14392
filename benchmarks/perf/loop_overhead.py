"""Can skorch's ``fit_loop`` carry the stacked members' step at today's speed? (issue 20)

Default configuration: 3000 x 16 synthetic rows, 3 classes, batch 64, the default
``QCLMixClassifier`` (3 cross-fit members of widths (256, 128), kNN mixup, one-cycle
schedule, held-out macro-F1 and best epoch), one torch thread, process CPU time
(``time.process_time``). Rounds alternate the variants, so a load spike hits each
alike; every figure is the median over the rounds, with the spread (min-max).

(a) Today's stacked loop (``training._stacked_fit.fit_stacked``), per training
    step (one step = one vectorised step of all 3 members):

    - ``compute``: ``StackedMembers.losses`` + ``backward`` + ``StackedAdamW.step``,
      timed by wrappers around them in an instrumented fit;
    - ``mixup``: ``_mixed`` (the members' kNN mixes; any loop runs them);
    - ``epoch end``: ``_end_epoch`` (held-out logits, cross-entropy, macro-F1,
      history, checkpoint: per member and epoch, shown per step);
    - ``bookkeeping``: the rest of ``fit_stacked`` in the instrumented fit (the
      wrappers' own cost taken out): grouping, batch rows, ``zero_grad``, rate
      tables, epoch orders, draws, loss recording, set-up, final weights.

    ``today's step`` is ``fit_stacked``'s time in an uninstrumented fit of the
    same round, divided by its steps.

(b) What skorch's ``fit_loop`` adds per batch around the training step, for
    member 0's net exactly as ``_build_net`` makes it (callbacks ``nonfinite_guard``,
    ``lr_schedule`` (LRScheduler, per batch), ``valid_f1``, ``best_epoch``,
    ``knn_mixup``, and skorch's defaults): ``train_step_single`` replaced by a
    stub returning a constant loss, the optimizer by one whose ``step(closure)``
    only calls the closure (so its wrapper, ``_step_optimizer``, the step
    accumulator and ``on_grad_computed`` remain), KNNMixup by a bare ``Callback``
    (its dispatch remains, its mix is the ``mixup`` of (a)). The net is fitted at
    batch 64 (32 batches an epoch) and at batch 4096 (1 batch an epoch): same
    epochs, same validation, so ::

        per-batch overhead = (fit(64) - fit(4096)) / (epochs * 31)

    It includes the iterator (``TensorBatches``), ``notify('on_batch_begin' /
    'on_batch_end' / 'on_grad_computed')`` over every callback, ``History``
    ``new_batch`` + two ``record_batch``, ``loss.item()``, ``LRScheduler`` (a
    OneCycleLR step and the ``event_lr`` record) and the guard. ``without
    callbacks`` is the same net with only skorch's default callbacks.
    ``OneCycleLR.step`` alone is timed too: today's loop pays it (3 per step,
    in ``epoch_schedule``), so it is no extra cost.

(c) Projection: the k=3 stacked step as the ``train_step_single`` of one skorch
    batch (the batch: every member's rows), per-member schedule, guard, history,
    scoring and early stopping as callbacks::

        skorch step = today's step + skorch per batch
                      + (k-1) * (LRScheduler per batch - OneCycleLR.step)
                      + k * (skorch epoch of a member - today's epoch end of a member) / 32

    i.e. today's loop bookkeeping is assumed to remain (the members' rows,
    schedules, draws and histories are per-member work any loop does; skorch's
    iterator would replace a few lines of it, the ``lower bound`` line drops the
    whole of it), plus what skorch adds: its per-batch machinery once, the two
    further members' LRScheduler callbacks beyond their scheduler step, and each
    member's epoch in skorch (held-out pass, ``notify``, EpochScoring,
    EarlyStopping, PrintLog's table, History; measured as the 1-batch fit's time
    per epoch) instead of today's ``epoch end``. ``held-out pass`` (logits,
    cross-entropy, macro-F1 of the plain module) is what of an epoch any loop
    computes: the rest of skorch's epoch is its machinery.

Results (``PYTHONPATH=. python benchmarks/perf/loop_overhead.py --rounds 9 --epochs 10``,
2-core VM shared with a background benchmark and other sessions, load average 5.0-5.5,
torch 2.13 CPU, skorch 1.4.0; median [min-max] of 9 rounds; 51 s):

    per training step (us, process CPU)                     median             min-max
    a.today's step (uninstrumented loop)                    5580.5     4919.8-  6463.1
    a.compute (losses+backward+adamw)                       4363.1     3935.4-  5052.5
    a.  losses                                              2486.2     2223.0-  2876.4
    a.  backward                                            1727.1     1574.2-  1989.2
    a.  StackedAdamW.step                                    149.8      138.3-   186.9
    a.mixup                                                  372.4      345.0-   426.2
    a.epoch end (validation, score, history, best)           248.4      212.3-   409.5
    a.bookkeeping (the five parts below)                     272.1      235.4-  1050.2
    a.  in _train_step (groups, rows, zero_grad, rates)      183.9      158.7-   236.2
    a.  epoch start (orders, rate tables, draws)              24.0       22.9-    26.0
    a.  _record_losses (loss sync, guard)                      4.8        4.5-     5.1
    a.  set-up (stack, optimizer, members)                    21.9       19.5-   811.8
    a.  rest of fit_stacked (per-step lines, final weights)      29.0       24.4-    35.8
    b.skorch per batch                                        54.1       30.1-    96.0
    b.skorch per batch, default callbacks only                29.1       21.1-    46.6
    b.skorch per epoch of a member (validation incl.) [per epoch]    3338.7     2059.0-  4737.8
    a.epoch end per epoch of a member [per epoch]           2649.6     2264.9-  4368.1
    b.held-out pass of a member (plain module) [per epoch]    1424.6     1250.4-  3056.6
    b.OneCycleLR.step                                          2.5        2.5-     2.5
    b.LRScheduler.on_batch_end                                 4.0        4.0-     4.0
    timing wrapper                                             1.3        1.3-     1.3
    c.+ skorch per batch                                      54.1       54.1-    54.1
    c.+ (k-1) LRScheduler beyond OneCycleLR.step               3.0        3.0-     3.0
    c.+ k x (skorch epoch - today's epoch end) / 32           64.6       64.6-    64.6
    c.skorch step (projected)                               5702.1     5702.1-  5702.1
    c.skorch step, lower bound (none of today's bookkeeping)    5430.1     5430.1-  5430.1
    c.projected / today                                      1.022
    c.lower bound / today                                    0.973
    steps per default fit: 320

Reading: the k=3 stacked step is 5.6 ms, 78% of it the vectorised compute;
today's loop bookkeeping is 0.27 ms (5%), mostly tensor work any loop needs
(gathering the members' batch rows, zeroing the flat gradient). skorch's loop
would add ~0.05 ms a batch (iterator, notify, History, ``loss.item()``,
``Optimizer.step`` wrappers, LRScheduler, guard) and ~0.7 ms a member-epoch
over today's epoch end (EpochScoring's predict_proba path, EarlyStopping's
state copy, PrintLog's table built even when silent): projected +2% a step
(+0.12 ms), below the round-to-round spread here (+-10%) but not below zero.
Only if none of today's bookkeeping remained would it match (lower bound -3%).

Usage::

    PYTHONPATH=. python benchmarks/perf/loop_overhead.py [--rounds 7] [--epochs 10] [--profile]

(``PYTHONPATH=.``, from the checkout's root: that checkout's package is the one timed.)

``--profile`` prints cProfile's cumulative listing of one stub fit (b) at batch 64:
which skorch functions the per-batch overhead is (cProfile inflates Python
calls: use it for attribution, not for the figures).
"""

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from skorch.callbacks import Callback
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import synthetic  # noqa: E402

import qclmix_sklearn._classifier as classifier_module  # noqa: E402
from qclmix_sklearn import QCLMixClassifier  # noqa: E402
from qclmix_sklearn._metrics import macro_f1  # noqa: E402
from qclmix_sklearn.training import _stacked_fit  # noqa: E402
from qclmix_sklearn.training._mixup import KNNMixup  # noqa: E402
from qclmix_sklearn.training._stacked_members import StackedAdamW, StackedMembers  # noqa: E402

N_ROWS, N_FEATURES, N_CLASSES, K = 3000, 16, 3, 3
ONE_BATCH = 4096  # a batch size above the 2000 fitting rows of a member: 1 batch an epoch


class _Timers:
    """Process CPU time spent in wrapped functions, by name."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = defaultdict(int)

    def wrap(self, name, fn):
        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.process_time() - start
                self.calls[name] += 1
        return timed


# The parts of fit_stacked timed in the instrumented fit: (owner, attribute, part).
_PARTS = [
    (_stacked_fit, "_train_step", "train_step"),
    (_stacked_fit, "_mixed", "mixup"),
    (_stacked_fit, "_end_epoch", "epoch_end"),
    (_stacked_fit, "_record_losses", "record_losses"),
    (StackedMembers, "losses", "losses"),
    (torch.Tensor, "backward", "backward"),
    (StackedAdamW, "step", "adamw"),
    (_stacked_fit._Member, "epoch_order", "epoch_start"),
    (_stacked_fit._Member, "epoch_schedule", "epoch_start"),
    (KNNMixup, "start_epoch", "epoch_start"),
    (StackedMembers, "__init__", "setup"),
    (StackedAdamW, "__init__", "setup"),
    (_stacked_fit._Member, "__init__", "setup"),
]


def _stacked_fit_seconds(X, y, epochs, instrumented):
    """A default fit; the process seconds of its ``fit_stacked`` and (instrumented) its parts."""
    timers = _Timers()
    patches = [(classifier_module, "fit_stacked", timers.wrap("loop", _stacked_fit.fit_stacked))]
    if instrumented:
        patches += [(owner, name, timers.wrap(part, getattr(owner, name)))
                    for owner, name, part in _PARTS]
    with ExitStack() as stack:
        for owner, name, value in patches:
            stack.enter_context(mock.patch.object(owner, name, value))
        QCLMixClassifier(max_epochs=epochs, random_state=0).fit(X, y)
    return timers


def _wrapper_cost():
    """Seconds one timing wrapper adds to a call (subtracted from the parts it nests in)."""
    timed = _Timers().wrap("x", lambda: None)
    n = 20000
    start = time.process_time()
    for _ in range(n):
        timed()
    return (time.process_time() - start) / n


class _Captured(Exception):
    pass


def _member_net(X, y, batch_size, epochs):
    """Member 0's initialised net as the default fit builds it, and its fitting rows."""
    captured = {}

    def capture(nets, data, parts, capture=None):
        captured.update(net=nets[0], fit_rows=parts[0][0], valid_rows=parts[0][1])
        raise _Captured

    with mock.patch.object(classifier_module, "fit_stacked", capture):
        try:
            QCLMixClassifier(max_epochs=epochs, batch_size=batch_size, random_state=0).fit(X, y)
        except _Captured:
            pass
    return captured["net"], captured["fit_rows"], captured["valid_rows"]


class _ClosureOnly(torch.optim.Optimizer):
    """An optimizer whose step only runs the closure: skorch's plumbing, no update."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0, fused=None):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay))

    def zero_grad(self, set_to_none=True):
        pass  # the stacked step zeroes its flat gradient itself (counted in (a))

    def step(self, closure=None):
        with torch.enable_grad():
            return closure() if closure is not None else None


def _stub_net(X, y, batch_size, epochs, callbacks=True):
    """A skorch fit of member 0's net whose training step does nothing (see module doc)."""
    net, fit_rows, _ = _member_net(X, y, batch_size, epochs)
    loss = torch.tensor(1.0)
    net.train_step_single = lambda batch, **fit_params: {"loss": loss, "y_pred": None}
    net.optimizer = _ClosureOnly
    net.callbacks = [(name, Callback() if name == "knn_mixup" else cb)
                     for name, cb in net.callbacks] if callbacks else []
    X_fit, y_fit = X[fit_rows], y[fit_rows]
    return lambda: net.fit(X_fit, y_fit)


def _process_seconds(fn):
    start = time.process_time()
    fn()
    return time.process_time() - start


def _one_cycle_step_seconds(n_steps=20000):
    """Process seconds of one ``OneCycleLR.step`` (on a stand-in optimizer, as today's loop)."""
    optimizer = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=4e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, div_factor=25,
                                                   total_steps=n_steps + 10)
    optimizer.step()
    start = time.process_time()
    for _ in range(n_steps):
        schedule.step()
    return (time.process_time() - start) / n_steps


def _validation_pass(X, y, epochs, repeats=20):
    """A timer of a member's held-out pass itself: logits, cross-entropy, macro-F1.

    What any loop computes once per member and epoch (plain module, eval mode),
    so that the rest of skorch's epoch is its machinery. Returns a function
    giving the process seconds of one pass (mean of ``repeats``).
    """
    net, _, valid_rows = _member_net(X, y, 64, epochs)
    module = net.module_.eval()
    X_valid, y_valid = torch.as_tensor(X[valid_rows]), torch.as_tensor(y[valid_rows])

    def seconds():
        start = time.process_time()
        for _ in range(repeats):
            with torch.no_grad():
                logits = module.logits(X_valid)
                float(F.cross_entropy(logits, y_valid))
                macro_f1(y_valid.numpy(), logits.argmax(dim=1).numpy())
        return (time.process_time() - start) / repeats

    return seconds


def _lr_scheduler_batch_seconds(X, y, epochs, n_calls=20000):
    """Process seconds of one ``LRScheduler.on_batch_end`` of member 0's net (step + record)."""
    net, _, _ = _member_net(X, y, 64, epochs)
    net.callbacks = [(name, cb) for name, cb in net.callbacks if name == "lr_schedule"]
    net.initialize()
    callback = dict(net.callbacks_)["lr_schedule"]
    callback.on_train_begin(net)  # on an empty history: the schedule starts at step 0
    net.history.new_epoch()
    net.history.new_batch()
    # Enough steps for the schedule: total_steps is epochs * 32.
    n_calls = min(n_calls, epochs * 32 - 1)
    start = time.process_time()
    for _ in range(n_calls):
        callback.on_batch_end(net, training=True)
    return (time.process_time() - start) / n_calls


def measure(rounds, epochs):
    """Per-round figures of (a) and (b), in process seconds (see the module docstring)."""
    X, y = synthetic(N_ROWS, N_FEATURES, N_CLASSES)
    stub_epochs = 5 * epochs  # the stub fit is cheap: more epochs, less noise
    variants = {
        "skorch 64": _stub_net(X, y, 64, stub_epochs),
        "skorch 4096": _stub_net(X, y, ONE_BATCH, stub_epochs),
        "skorch 4096, half the epochs": _stub_net(X, y, ONE_BATCH, stub_epochs // 2),
        "default callbacks 64": _stub_net(X, y, 64, stub_epochs, callbacks=False),
        "default callbacks 4096": _stub_net(X, y, ONE_BATCH, stub_epochs, callbacks=False),
    }
    validation = _validation_pass(X, y, epochs)
    wrapper = _wrapper_cost()
    rows = defaultdict(list)
    for r in range(rounds + 1):  # round 0 warms up (lazy imports, allocator)
        plain = _stacked_fit_seconds(X, y, epochs, instrumented=False)
        timed = _stacked_fit_seconds(X, y, epochs, instrumented=True)
        stub = {name: _process_seconds(fit) for name, fit in variants.items()}
        if r == 0:
            continue
        s, n = timed.seconds, timed.calls
        steps = n["train_step"]
        compute = s["losses"] + s["backward"] + s["adamw"]
        # A wrapper's own cost lands in the part that encloses it: taken out there.
        in_step = compute + s["mixup"] + wrapper * (
            n["losses"] + n["backward"] + n["adamw"] + n["mixup"])
        timed_parts = s["train_step"] + s["epoch_end"] + s["record_losses"] + s["epoch_start"] \
            + s["setup"] + wrapper * sum(n[part] for part in n if part != "loop")
        for name, value in {
            "a.today's step (uninstrumented loop)": plain.seconds["loop"],
            "a.compute (losses+backward+adamw)": compute,
            "a.  losses": s["losses"],
            "a.  backward": s["backward"],
            "a.  StackedAdamW.step": s["adamw"],
            "a.mixup": s["mixup"],
            "a.epoch end (validation, score, history, best)": s["epoch_end"],
            "a.bookkeeping (the five parts below)": s["loop"] - compute - s["mixup"]
                - s["epoch_end"] - wrapper * sum(n[part] for part in n if part != "loop"),
            "a.  in _train_step (groups, rows, zero_grad, rates)": s["train_step"] - in_step,
            "a.  epoch start (orders, rate tables, draws)": s["epoch_start"],
            "a.  _record_losses (loss sync, guard)": s["record_losses"],
            "a.  set-up (stack, optimizer, members)": s["setup"],
            "a.  rest of fit_stacked (per-step lines, final weights)": s["loop"] - timed_parts,
        }.items():
            rows[name].append(value / steps)
        per_epoch_batches = 32 - 1
        batch = (stub["skorch 64"] - stub["skorch 4096"]) / (stub_epochs * per_epoch_batches)
        rows["b.skorch per batch"].append(batch)
        rows["b.skorch per batch, default callbacks only"].append(
            (stub["default callbacks 64"] - stub["default callbacks 4096"])
            / (stub_epochs * per_epoch_batches))
        half = stub_epochs - stub_epochs // 2
        rows["b.skorch per epoch of a member (validation incl.)"].append(
            (stub["skorch 4096"] - stub["skorch 4096, half the epochs"]) / half - batch)
        rows["a.epoch end per epoch of a member"].append(s["epoch_end"] / n["epoch_end"])
        rows["b.held-out pass of a member (plain module)"].append(validation())
        rows["steps"].append(steps)
    rows["b.OneCycleLR.step"] = [_one_cycle_step_seconds()]
    rows["b.LRScheduler.on_batch_end"] = [_lr_scheduler_batch_seconds(X, y, stub_epochs)]
    rows["timing wrapper"] = [wrapper]
    return rows


def summary(rows):
    """Medians, and the projection (c)."""
    med = {name: float(np.median(v)) for name, v in rows.items()}
    today = med["a.today's step (uninstrumented loop)"]
    steps_per_epoch = 32
    extra = {
        "c.+ skorch per batch": med["b.skorch per batch"],
        "c.+ (k-1) LRScheduler beyond OneCycleLR.step":
            (K - 1) * (med["b.LRScheduler.on_batch_end"] - med["b.OneCycleLR.step"]),
        # Each member's epoch in skorch (held-out pass, scoring, early
        # stopping, history) instead of today's epoch end.
        "c.+ k x (skorch epoch - today's epoch end) / 32":
            K * (med["b.skorch per epoch of a member (validation incl.)"]
                 - med["a.epoch end per epoch of a member"]) / steps_per_epoch,
    }
    med.update(extra)
    projected = today + sum(extra.values())
    lower = projected - med["a.bookkeeping (the five parts below)"]
    med["c.skorch step (projected)"] = projected
    med["c.skorch step, lower bound (none of today's bookkeeping)"] = lower
    med["c.projected / today"] = projected / today
    med["c.lower bound / today"] = lower / today
    return med


def print_table(rows, med):
    print(f"{'per training step (us, process CPU)':52s} {'median':>9s} {'min-max':>19s}")
    for name, value in med.items():
        if name == "steps":
            continue
        if "of a member" in name:
            values = rows[name]
            spread = f"{1e6 * min(values):8.1f}-{1e6 * max(values):8.1f}"
            print(f"{name + ' [per epoch]':52s} {1e6 * value:9.1f} {spread:>19s}")
            continue
        if name.endswith("/ today"):
            print(f"{name:52s} {value:9.3f}")
            continue
        values = rows.get(name, [value])
        spread = f"{1e6 * min(values):8.1f}-{1e6 * max(values):8.1f}"
        print(f"{name:52s} {1e6 * value:9.1f} {spread:>19s}")
    print(f"steps per default fit: {int(med['steps'])}")


def profile(epochs):
    X, y = synthetic(N_ROWS, N_FEATURES, N_CLASSES)
    fit = _stub_net(X, y, 64, epochs)
    fit()  # warm-up
    profiler = cProfile.Profile()
    profiler.runcall(fit)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.profile:
        profile(5 * args.epochs)
        return
    rows = measure(args.rounds, args.epochs)
    print_table(rows, summary(rows))


if __name__ == "__main__":
    main()
