"""Which entries of the imbalance portfolio ``fit`` keeps, per dev dataset: ``portfolio_weights_``.

Refits the dev suite's ``qclmix_portfolio_auto`` job (the same pipeline, split and seed) on chosen
(fold, seed) pairs, and prints each dataset's mean weight per entry and the job's test macro-F1
beside the stored one (equal when the refit is the stored job's)::

    python benchmarks/dev/portfolio_weights.py --data-home ../shared/datasets --folds 0 --seeds 0
"""

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score

from qclmix_sklearn._classifier import IMBALANCE_PORTFOLIO
from qclmix_sklearn.bench._models import make_model
from qclmix_sklearn.bench._protocols import splits
from qclmix_sklearn.bench._runner import _configure, job_data, protocol_options_of
from qclmix_sklearn.bench._store import read_successes
from qclmix_sklearn.bench._suites import get_suite


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="benchmarks/results/dev.sqlite")
    parser.add_argument("--model", default="qclmix_portfolio_auto")
    parser.add_argument("--datasets", default=None, help="comma-separated (default: the stored)")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--folds", default="0,1,2")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args(argv)
    suite = get_suite("dev")
    stored = read_successes(args.db, "cv", finished=False)
    stored = stored[stored["model"] == args.model].set_index(["dataset", "fold", "seed"])
    datasets = (args.datasets.split(",") if args.datasets
                else sorted(stored.index.get_level_values(0).unique()))
    folds, seeds = {int(f) for f in args.folds.split(",")}, [int(s) for s in args.seeds.split(",")]
    names = [",".join(f"{k}={v}" for k, v in entry.items()) or "own" for entry in
             IMBALANCE_PORTFOLIO]
    rows = []
    for name in datasets:
        bunch = suite.load_dataset(name, data_home=args.data_home)
        X, y, _ = job_data(bunch)
        for fold, seed, train, test in splits("cv", y, n_splits=suite.n_splits, seeds=seeds):
            if fold not in folds:
                continue
            pipeline, _, _ = _configure(suite, args.model, seed,
                                        protocol_options_of(suite, "cv"), make_model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipeline.fit(X[train], y[train])
            f1 = f1_score(y[test], pipeline.predict(X[test]), average="macro")
            key = (name, fold, seed)
            rows.append({"dataset": name, "fold": fold, "seed": seed, "test macro-F1": f1,
                         "stored": stored["f1_macro"].get(key, np.nan),
                         **dict(zip(names, pipeline[-1].portfolio_weights_))})
    frame = pd.DataFrame(rows)
    print(frame.to_string(index=False, float_format="%.3f"))
    print("\nmean weight per entry over these jobs:")
    print(frame[names].mean().to_string(float_format="%.3f"))


if __name__ == "__main__":
    main()
