"""Paper configuration, sequential and stacked ensemble members: fit time, alternately.

``member_training='stacked'`` trains the same members as ``'sequential'``
(differences are floating-point rounding, which can move a member's best
epoch); this measures how much faster it is. Each round fits the paper
configuration (one network), the default ensemble member after member and
the default ensemble stacked, one after the other, so that a load spike on
a shared machine hits all three alike: read the ratios. One torch thread.

Without ``--datasets``: 3000 x 16 synthetic rows, 10 epochs (the fit target
of ``targets.py``). With ``--datasets``: stratified 3-fold CV on each, seed 0,
50 epochs, StandardScaler in the pipeline, and the test macro-F1 of each.

Usage::

    python benchmarks/perf/stacked_vs_sequential.py [--rounds 5]
    python benchmarks/perf/stacked_vs_sequential.py --datasets ecoli glass --data-home DIR
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ONE_CONFIGURATION, synthetic  # noqa: E402

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier  # noqa: E402

MODES = {
    "paper": dict(PAPER_PARAMS),
    "sequential": dict(member_training="sequential", **ONE_CONFIGURATION),
    "stacked": dict(member_training="stacked", **ONE_CONFIGURATION),
}


def _fit_seconds(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def synthetic_rounds(rounds, epochs=10):
    """Median fit seconds of each mode on 3000 x 16 rows, the modes alternating."""
    X, y = synthetic(3000, 16)
    seconds = {mode: [] for mode in MODES}
    for _ in range(rounds + 1):  # the first round warms up (lazy imports, allocator)
        for mode, params in MODES.items():
            seconds[mode].append(_fit_seconds(
                QCLMixClassifier(max_epochs=epochs, random_state=0, **params), X, y))
    return {mode: float(np.median(values[1:])) for mode, values in seconds.items()}


def dataset_folds(X, y, epochs=50):
    """Summed fit seconds and test macro-F1 per fold of each mode, the modes alternating."""
    seconds = dict.fromkeys(MODES, 0.0)
    scores = {mode: [] for mode in MODES}
    for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
        for mode, params in MODES.items():
            model = make_pipeline(StandardScaler(), QCLMixClassifier(
                max_epochs=epochs, random_state=0, **params))
            seconds[mode] += _fit_seconds(model, X[train], y[train])
            scores[mode].append(f1_score(y[test], model.predict(X[test]), average="macro"))
    return seconds, scores


def _report(name, seconds, scores=None):
    for mode, value in seconds.items():
        score = "" if scores is None else (
            f"macro-F1 {np.mean(scores[mode]):.3f} "
            f"({', '.join(f'{s:.3f}' for s in scores[mode])}), ")
        print(f"{name} {mode}: {score}fit {value:.2f} s ({value / seconds['paper']:.2f}x paper)")
    print(f"{name} sequential / stacked: {seconds['sequential'] / seconds['stacked']:.2f}x",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=None)
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.datasets is None:
        _report("3000x16, 10 epochs (median of rounds)", synthetic_rounds(args.rounds))
        return
    from qclmix_sklearn.datasets import load_benchmark

    for name in args.datasets:
        bunch = load_benchmark(name, data_home=args.data_home)
        _report(name, *dataset_folds(bunch.data, bunch.target))


if __name__ == "__main__":
    main()
