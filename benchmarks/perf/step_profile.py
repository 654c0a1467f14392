"""Where a QCLMix training epoch goes, next to the bare loop of ``targets.py``.

Each line adds one part to a hand-written training loop (4096 x 16, batch
64, AdamW as the estimator runs it (FlatAdamW) + OneCycleLR, one torch
thread; the bare loop has torch's fused AdamW), so the difference between
consecutive lines is that part's cost, forward and backward included; the
last lines are the full estimator fits (paper single network, default
stacked ensemble) per epoch. Variants alternate round by round and each
figure is the median of the process CPU time: read the ratios, not the
milliseconds. ``--compile`` adds the full manual step with the network and
loss under ``torch.compile`` and prints its compile time (first epoch).

Usage::

    python benchmarks/perf/step_profile.py [--rounds 5] [--epochs 3] [--compile]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import synthetic  # noqa: E402
from targets import N_CLASSES, bare_loop  # noqa: E402

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier  # noqa: E402
from qclmix_sklearn.training._flat_adamw import FlatAdamW  # noqa: E402
from qclmix_sklearn.training._mixup import _draw, _mix  # noqa: E402
from qclmix_sklearn.losses import FocalVarianceLoss, HybridLoss  # noqa: E402
from qclmix_sklearn.nn import QCLMixNet  # noqa: E402


def _criterion(part):
    """The loss of one variant: cross-entropy, or the hybrid loss up to ``part``."""
    if part == "ce":
        return lambda out, y: F.cross_entropy(out[0], y)
    hybrid = HybridLoss.paper(FocalVarianceLoss(N_CLASSES, 8))
    if part == "fvl":
        hybrid.alpha = 1
    elif part == "supcon":
        hybrid.metric.margin = None  # SupCon alone
    return hybrid


_COMPILED = {}


def manual_loop(X, y, epochs, part, mixup=False, batch_size=64, seed=0, compiled=False):
    """The QCLMix network trained by hand with the loss ``part`` (and mixup)."""
    torch.manual_seed(seed)
    if compiled and part in _COMPILED:  # built once: new modules would recompile
        module, criterion, loss = _COMPILED[part]
    else:
        module, criterion = QCLMixNet(X.shape[1], N_CLASSES), _criterion(part)
        loss = lambda x, target: criterion(module(x), target)  # noqa: E731
        if compiled:
            loss = torch.compile(loss, dynamic=False)
            _COMPILED[part] = module, criterion, loss
    params = list(module.parameters()) + list(getattr(criterion, "parameters", list)())
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    optimizer = FlatAdamW(params, lr=4e-4, weight_decay=1e-5, fused=True)  # as the estimator's
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=1e-2, div_factor=25, total_steps=epochs * -(-len(X) // batch_size))
    generator, rng = torch.Generator().manual_seed(seed), np.random.default_rng(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        draws = torch.from_numpy(np.stack(_draw(rng, len(X), 0.2))).float()
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            x = X[rows]
            if mixup:
                u, lam = draws[:, start:start + batch_size]
                x = _mix(x, None, 5, u, lam)[0]
            optimizer.zero_grad()
            loss(x, y[rows]).backward()
            optimizer.step()
            schedule.step()


def interleaved_cpu(named_fns, rounds):
    """Median CPU seconds of each ``fn`` over ``rounds`` round-robin runs.

    Process CPU time, not wall time: other jobs on a shared core then hardly count.
    """
    times = {name: [] for name in named_fns}
    for _ in range(rounds):
        for name, fn in named_fns.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: float(np.median(values)) for name, values in times.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X, y = synthetic(4096, 16, N_CLASSES)
    y = y.astype(np.int64)
    X3k, y3k = synthetic(3000, 16, N_CLASSES)
    epochs = args.epochs
    variants = {
        "bare loop (MLP, cross-entropy)": lambda: bare_loop(X, y, epochs),
        "+ QCLMix network (cross-entropy)": lambda: manual_loop(X, y, epochs, "ce"),
        "+ focal-variance loss": lambda: manual_loop(X, y, epochs, "fvl"),
        "+ SupCon": lambda: manual_loop(X, y, epochs, "supcon"),
        "+ miner and triplet (hybrid loss)": lambda: manual_loop(X, y, epochs, "hybrid"),
        "+ kNN mixup": lambda: manual_loop(X, y, epochs, "hybrid", mixup=True),
        "QCLMixClassifier(**PAPER_PARAMS), no validation": lambda: QCLMixClassifier(
            **PAPER_PARAMS, max_epochs=epochs, validation_fraction=None,
            random_state=0).fit(X, y),
        "default QCLMixClassifier (3 stacked, 3000 rows)": lambda: QCLMixClassifier(
            max_epochs=epochs, random_state=0).fit(X3k, y3k),
    }
    if args.compile:
        start = time.perf_counter()
        manual_loop(X, y, 1, "hybrid", mixup=True, compiled=True)
        print(f"torch.compile: first epoch {time.perf_counter() - start:.1f} s wall (compiles)")
        variants["+ kNN mixup, network and loss under torch.compile"] = lambda: manual_loop(
            X, y, epochs, "hybrid", mixup=True, compiled=True)
    times = interleaved_cpu(variants, args.rounds)
    bare = times["bare loop (MLP, cross-entropy)"]
    print("| variant | ms / epoch | x bare loop |\n|---|---|---|")
    for name, seconds in times.items():
        print(f"| {name} | {1e3 * seconds / epochs:.1f} | {seconds / bare:.2f} |")


if __name__ == "__main__":
    main()
