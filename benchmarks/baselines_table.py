"""Macro-F1 of the 20 grid-searched baselines on a few benchmark datasets.

The paper's protocol, honestly: stratified 80/20 split (seed 42), a
StandardScaler fitted on the training part, each baseline tuned by 3-fold
GridSearchCV on macro-F1 within the training part only, refitted, and scored
once on the test part. Prints a Markdown table (rows: baselines; columns:
datasets) to stdout and progress to stderr.

Usage::

    QCLMIX_DATA=/path/to/shared/datasets \\
        python benchmarks/baselines_table.py --datasets ecoli glass
    python benchmarks/baselines_table.py --only xgboost gcn --max-epochs 20
"""

import argparse
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn.baselines import get_baseline, list_baselines
from qclmix_sklearn.datasets import load_benchmark


def _split(name, seed):
    bunch = load_benchmark(name)
    X_train, X_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.2, stratify=bunch.target, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def _score(baseline, data, seed, max_epochs, n_jobs):
    X_train, X_test, y_train, y_test = data
    estimator, grid = get_baseline(baseline, random_state=seed)
    if "max_epochs" in estimator.get_params():
        estimator.set_params(max_epochs=max_epochs)
    search = GridSearchCV(
        estimator,
        grid,
        scoring="f1_macro",
        cv=StratifiedKFold(3, shuffle=True, random_state=seed),
        n_jobs=n_jobs,
        error_score="raise",
    )
    with warnings.catch_warnings():
        # Folds of the smallest classes trigger "least populated class" and
        # ill-defined-precision warnings; they do not change the scores.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        search.fit(X_train, y_train)
    return f1_score(y_test, search.predict(X_test), average="macro"), search.best_params_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ecoli", "glass"])
    parser.add_argument("--only", nargs="+", help="baseline names (default: all 20)")
    parser.add_argument("--max-epochs", type=int, default=100, help="DL/GNN epochs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-jobs", type=int, default=1, help="GridSearchCV n_jobs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    groups = list_baselines()
    names = [n for group in groups.values() for n in group]
    selected = args.only or names
    data = {name: _split(name, args.seed) for name in args.datasets}
    rows = []
    for baseline in selected:
        group = next(g for g, members in groups.items() if baseline in members)
        scores = []
        for dataset in args.datasets:
            start = time.perf_counter()
            score, params = _score(baseline, data[dataset], args.seed, args.max_epochs, args.n_jobs)
            seconds = time.perf_counter() - start
            print(f"{baseline:>20} {dataset:>12} {score:.3f} {seconds:7.1f}s {params}",
                  file=sys.stderr, flush=True)
            scores.append(score)
        rows.append((baseline, group, scores))

    print("| baseline | group | " + " | ".join(args.datasets) + " |")
    print("|---|---|" + "---:|" * len(args.datasets))
    for baseline, group, scores in rows:
        print(f"| {baseline} | {group} | " + " | ".join(f"{s:.3f}" for s in scores) + " |")
    best = np.max([scores for _, _, scores in rows], axis=0)
    print("| *best* | | " + " | ".join(f"{s:.3f}" for s in best) + " |")


if __name__ == "__main__":
    main()
