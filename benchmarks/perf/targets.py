"""The performance targets of issue 14, as ratios measured alternately in one process.

1. fit of the default QCLMixClassifier (3-member cross-fit ensemble, one
   configuration: the default until 2026-12-05) over the fit of the paper
   configuration (one network), 3000 x 16, 10 epochs; the ensemble trained
   member after member (``member_training='sequential'``) and together
   (``'stacked'``). Target: <= 1.5x.
2. a QCLMix training epoch (paper configuration, no validation split,
   4096 x 16, batch 64) over the epoch of a bare torch loop training an MLP
   of the same widths (16-64-32-C with BatchNorm and LeakyReLU): a
   permutation of whole-data tensors, forward, cross-entropy, backward,
   fused AdamW and a OneCycleLR step per batch, nothing else. Target: <= 2x.
3. ``predict_proba`` rows/s of the default ensemble at D = 16 (1M rows),
   next to the paper configuration's single network and to the ensemble
   predicted member by member (each member's ``_proba``, averaged: the path
   ``predict_proba`` took before the members were folded into one pass).
   Target: >= 1M rows/s.
4. fit time per row per epoch of the default QCLMixClassifier at 10k, 100k
   and 1M rows (D = 16, ``--scaling-epochs`` epochs; ``--max-rows`` drops
   the larger sizes), and its ratio largest / 10k. Target: flat (~1x). The
   sizes run up and back down (10k, 100k, 1M, 100k, 10k, the largest once),
   so that a drift of the machine's load hits small and large sizes alike;
   each figure is the mean of its runs.
5. beside the targets, today's default (the feature-selection portfolio: the
   ensemble twice, once on the columns each member selects) against the
   ensemble of one configuration: fit as in 1., ``predict_proba`` as in 3.,
   measured after the targets, apart from them.

Everything runs on one torch thread; contenders alternate round by round and
each figure is the median over the rounds, so a load spike on a shared
machine hits all contenders alike: read the ratios, not the seconds.

Usage::

    python benchmarks/perf/targets.py [--rounds 3] [--out results/targets.json]
                                      [--max-rows 1000000] [--scaling-epochs 1]
                                      [--hidden-sizes 64,32]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import ONE_CONFIGURATION, interleaved, seconds, synthetic  # noqa: E402
from _references import mlp_module  # noqa: E402

from qclmix_sklearn import PAPER_PARAMS, QCLMixClassifier  # noqa: E402

N_CLASSES = 4
#: Parameters of "the default" QCLMixClassifier here: one configuration, or --hidden-sizes.
DEFAULT = dict(ONE_CONFIGURATION)
#: Today's default, the feature-selection portfolio (at --hidden-sizes too): beside the targets.
PORTFOLIO = {**DEFAULT, "portfolio": "feature_selection"}


def bare_loop(X, y, epochs, batch_size=64, seed=0):
    """The leanest epoch of a plain MLP: no framework, no validation, no callbacks."""
    torch.manual_seed(seed)
    module = mlp_module(X.shape[1], N_CLASSES)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    n_batches = -(-len(X) // batch_size)
    optimizer = torch.optim.AdamW(module.parameters(), lr=4e-4, weight_decay=1e-5, fused=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, div_factor=25,
                                                   total_steps=epochs * n_batches)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), batch_size):
            rows = order[start:start + batch_size]
            if len(rows) < 2:
                continue
            optimizer.zero_grad()
            F.cross_entropy(module(X[rows]), y[rows]).backward()
            optimizer.step()
            schedule.step()


#: The fit of the targets' first part: 3000 x 16 rows, 10 epochs.
FIT_ROWS, FIT_PARAMS = 3000, dict(max_epochs=10, random_state=0)


def fitted_for_prediction(*configurations):
    """One-epoch fits on 2000 x 16 rows, one per parameter dict: the models predicted."""
    X_fit, y_fit = synthetic(2000, 16, N_CLASSES)
    return [QCLMixClassifier(**params, max_epochs=1, random_state=0).fit(X_fit, y_fit)
            for params in configurations]


def fit_ratios(rounds):
    X, y = synthetic(FIT_ROWS, 16, N_CLASSES)
    times = interleaved({
        "paper": lambda: QCLMixClassifier(**PAPER_PARAMS, **FIT_PARAMS).fit(X, y),
        "default_sequential": lambda: QCLMixClassifier(member_training="sequential",
                                                       **DEFAULT, **FIT_PARAMS).fit(X, y),
        "default_stacked": lambda: QCLMixClassifier(member_training="stacked",
                                                    **DEFAULT, **FIT_PARAMS).fit(X, y),
    }, rounds)
    return {"seconds": times,
            "sequential_over_paper": times["default_sequential"] / times["paper"],
            "stacked_over_paper": times["default_stacked"] / times["paper"]}


def epoch_ratio(rounds, epochs=3):
    X, y = synthetic(4096, 16, N_CLASSES)
    y = y.astype(np.int64)
    times = interleaved({
        "qclmix": lambda: QCLMixClassifier(**PAPER_PARAMS, max_epochs=epochs,
                                           validation_fraction=None, random_state=0).fit(X, y),
        "bare_loop": lambda: bare_loop(X, y, epochs),
    }, rounds)
    return {"seconds_per_epoch": {k: v / epochs for k, v in times.items()},
            "qclmix_over_bare_loop": times["qclmix"] / times["bare_loop"]}


def predict_throughput(rounds, n_rows=1_000_000):
    X, _ = synthetic(n_rows, 16, N_CLASSES, seed=1)
    models = dict(zip(["default_ensemble", "paper_single"],
                      fitted_for_prediction(DEFAULT, PAPER_PARAMS)))
    contenders = {name: (lambda m=m: m.predict_proba(X)) for name, m in models.items()}
    ensemble = models["default_ensemble"]
    contenders["default_ensemble_member_by_member"] = lambda: np.mean(
        [ensemble._proba(X, net) for net in ensemble.nets_], axis=0)
    times = interleaved(contenders, rounds)
    return {"rows_per_second": {k: n_rows / v for k, v in times.items()}}


def portfolio_cost(rounds, n_rows=1_000_000):
    """Today's default portfolio against the ensemble of one configuration: fit as in
    ``fit_ratios``, prediction as in ``predict_throughput``. Measured apart, so that its
    forests and twice the members do not run between the targets' contenders."""
    X, y = synthetic(FIT_ROWS, 16, N_CLASSES)
    fit = interleaved({
        "ensemble": lambda: QCLMixClassifier(**DEFAULT, **FIT_PARAMS).fit(X, y),
        "portfolio": lambda: QCLMixClassifier(**PORTFOLIO, **FIT_PARAMS).fit(X, y),
    }, rounds)
    X_big, _ = synthetic(n_rows, 16, N_CLASSES, seed=1)
    models = dict(zip(["ensemble", "portfolio"], fitted_for_prediction(DEFAULT, PORTFOLIO)))
    predict = interleaved({name: (lambda m=m: m.predict_proba(X_big))
                           for name, m in models.items()}, rounds)
    return {"fit_seconds": fit, "fit_over_ensemble": fit["portfolio"] / fit["ensemble"],
            "rows_per_second": {name: n_rows / t for name, t in predict.items()},
            "members": len(models["portfolio"].nets_)}


SCALING_SIZES = (10_000, 100_000, 1_000_000)


def fit_scaling(max_rows, epochs):
    sizes = [n for n in SCALING_SIZES if n <= max_rows]
    X, y = synthetic(2000, 16, N_CLASSES, seed=3)
    QCLMixClassifier(**DEFAULT, max_epochs=1, random_state=0).fit(X, y)  # warm-up: lazy imports
    runs = {n: [] for n in sizes}
    for n in sizes + sizes[-2::-1]:
        X, y = synthetic(n, 16, N_CLASSES, seed=2)
        model = QCLMixClassifier(**DEFAULT, max_epochs=epochs, random_state=0)
        runs[n].append(seconds(model.fit, X, y))
    per_row = {n: float(np.mean(times)) / (n * epochs) for n, times in runs.items()}
    return {"epochs": epochs, "seconds": {str(n): times for n, times in runs.items()},
            "us_per_row_epoch": {str(n): 1e6 * v for n, v in per_row.items()},
            "largest": sizes[-1],
            "largest_over_smallest": per_row[sizes[-1]] / per_row[sizes[0]]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "targets.json")
    parser.add_argument("--max-rows", type=int, default=SCALING_SIZES[-1],
                        help="largest training set of the fit-scaling section")
    parser.add_argument("--scaling-epochs", type=int, default=1)
    parser.add_argument("--hidden-sizes", help="e.g. 64,32: the default ensemble at these widths")
    args = parser.parse_args(argv)
    if args.hidden_sizes:
        DEFAULT["hidden_sizes"] = tuple(int(w) for w in args.hidden_sizes.split(","))
        PORTFOLIO["hidden_sizes"] = DEFAULT["hidden_sizes"]
    torch.set_num_threads(1)
    start = time.time()
    results = {"rounds": args.rounds, "default_params": dict(DEFAULT),
               "fit": fit_ratios(args.rounds),
               "epoch": epoch_ratio(args.rounds + 2),
               "predict": predict_throughput(args.rounds),
               "scaling": fit_scaling(args.max_rows, args.scaling_epochs),
               "portfolio": portfolio_cost(args.rounds)}
    results["wall_seconds"] = time.time() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    fit, epoch, predict, scaling = (results[k] for k in ("fit", "epoch", "predict", "scaling"))
    rows = predict["rows_per_second"]
    print("| measurement | target | measured |\n|---|---|---|")
    print(f"| default fit / paper fit, members sequential | <= 1.5x | "
          f"{fit['sequential_over_paper']:.2f}x |")
    print(f"| default fit / paper fit, members stacked | <= 1.5x | "
          f"{fit['stacked_over_paper']:.2f}x |")
    print(f"| QCLMix epoch / bare-loop MLP epoch | <= 2x | "
          f"{epoch['qclmix_over_bare_loop']:.2f}x |")
    print(f"| predict_proba, default ensemble, D=16 | >= 1M rows/s | "
          f"{rows['default_ensemble'] / 1e6:.2f}M rows/s |")
    print(f"| predict_proba, default ensemble member by member, D=16 | - | "
          f"{rows['default_ensemble_member_by_member'] / 1e6:.2f}M rows/s |")
    print(f"| predict_proba, paper single network, D=16 | - | "
          f"{rows['paper_single'] / 1e6:.2f}M rows/s |")
    portfolio = results["portfolio"]
    print(f"| today's default portfolio: fit / ensemble fit | - | "
          f"{portfolio['fit_over_ensemble']:.2f}x |")
    print(f"| predict_proba, today's default portfolio ({portfolio['members']} members), "
          f"D=16 | - | {portfolio['rows_per_second']['portfolio'] / 1e6:.2f}M rows/s |")
    per_row = ", ".join(f"{int(n) // 1000}k: {us:.1f}"
                        for n, us in scaling["us_per_row_epoch"].items())
    print(f"| default fit, us per row per epoch ({per_row}) | flat | "
          f"{scaling['largest_over_smallest']:.2f}x ({scaling['largest'] // 1000}k / 10k) |")


if __name__ == "__main__":
    main()
