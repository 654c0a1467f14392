"""Fit time per epoch of each lever variant (issue 13) against one configuration, on 1000 x 16 rows.

The variants are those of ``LEVER_VARIANTS`` (qclmix_sklearn/bench/_models.py), of another
table there (``--variants ROBUSTNESS_VARIANTS``) or named one by one (``--variants
qclmix_feature_selection,qclmix``), each with its parameters in ``QCLMIX_VARIANTS``; the
reference is ``qclmix_no_portfolio``, one configuration trained alone (the defaults until the
feature-selection portfolio became the default; every lever variant was measured on it).
They are timed in turns, in one process: every round fits the reference, each
variant once, then the reference again, and a variant's ratio in that round is
its time over the mean of the two reference fits around it, so that a busy
machine slows both alike. Printed: the median over the rounds of the time
per epoch (fit time / epochs, the fixed costs of a fit included) and of the
ratio, with the ratio's lowest and highest value. One torch thread.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/perf/lever_costs.py --rounds 7 --epochs 5
    OMP_NUM_THREADS=1 python benchmarks/perf/lever_costs.py \
        --variants qclmix_feature_selection,qclmix --rounds 3 --epochs 100
"""

import argparse
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.bench import _models


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--member-training", default="stacked")
    parser.add_argument("--variants", default="LEVER_VARIANTS",
                        help="a table of variants in qclmix_sklearn/bench/_models.py, or "
                             "variant names separated by commas")
    args = parser.parse_args()
    names = getattr(_models, args.variants, None) or args.variants.split(",")
    variants = {name: _models.QCLMIX_VARIANTS[name] for name in names}
    reference = _models.QCLMIX_VARIANTS["qclmix_no_portfolio"]
    X, y = make_classification(n_samples=1000, n_features=16, n_informative=8, n_classes=3,
                               weights=[0.7, 0.2, 0.1], random_state=0)
    X = StandardScaler().fit_transform(X).astype(np.float32)

    def per_epoch(params):
        model = QCLMixClassifier(max_epochs=args.epochs, random_state=0,
                                 member_training=args.member_training, **params)
        start = time.perf_counter()
        model.fit(X, y)
        return (time.perf_counter() - start) / args.epochs

    seconds = {name: [] for name in ["qclmix_no_portfolio", *variants]}
    ratios = {name: [] for name in variants}
    for _ in range(args.rounds):
        before = per_epoch(reference)
        times = {name: per_epoch(params) for name, params in variants.items()}
        after = per_epoch(reference)
        seconds["qclmix_no_portfolio"] += [before, after]
        for name, t in times.items():
            seconds[name].append(t)
            ratios[name].append(t / ((before + after) / 2))
    print(f"{'qclmix_no_portfolio':28s} "
          f"{1e3 * np.median(seconds['qclmix_no_portfolio']):7.1f} ms/epoch")
    for name, r in ratios.items():
        print(f"{name:28s} {1e3 * np.median(seconds[name]):7.1f} ms/epoch  "
              f"x{np.median(r):.2f} (x{min(r):.2f}-x{max(r):.2f})")


if __name__ == "__main__":
    main()
