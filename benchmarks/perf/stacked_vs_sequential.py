"""Stacked against sequential ensemble members: macro-F1 and fit time on two paper datasets.

A check that ``member_training='stacked'`` trains the same models as
``'sequential'`` (differences are floating-point rounding, which can move a
member's best epoch), and how much faster it is. Stratified 3-fold CV, seed 0,
50 epochs, StandardScaler in the pipeline.

Usage::

    python benchmarks/perf/stacked_vs_sequential.py --data-home ../shared/datasets
"""

import argparse
import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.datasets import load_benchmark


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--datasets", nargs="+", default=["ecoli", "glass"])
    args = parser.parse_args()
    for name in args.datasets:
        bunch = load_benchmark(name, data_home=args.data_home)
        X, y = bunch.data, bunch.target
        for mode in ["sequential", "stacked"]:
            scores, seconds = [], 0.0
            for train, test in StratifiedKFold(3, shuffle=True, random_state=0).split(X, y):
                model = make_pipeline(StandardScaler(), QCLMixClassifier(
                    member_training=mode, max_epochs=50, random_state=0))
                start = time.perf_counter()
                model.fit(X[train], y[train])
                seconds += time.perf_counter() - start
                scores.append(f1_score(y[test], model.predict(X[test]), average="macro"))
            print(f"{name} {mode}: macro-F1 {np.mean(scores):.3f} "
                  f"({', '.join(f'{s:.3f}' for s in scores)}), fit {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
