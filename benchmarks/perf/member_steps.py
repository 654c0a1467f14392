"""Do the cross-fit members need their own optimizer steps? How often their epochs differ.

QCLMix's default trains its cross-fit members as one stacked computation with one optimizer
(``training._stacked_members.StackedAdamW``) that keeps a step count, rate and momentum per
member and lets only the members that have a batch take a step. A stock
``torch.optim.AdamW`` over the stacked ``(k, ...)`` tensors would step every member at every
step, so a member without a batch would move by its momentum and weight decay: it would no
longer train as the separate fit it stands for. This counts, on every training part of a
suite's jobs, how many default fits have members whose epochs have different numbers of
batches (their fitting rows differ by a row or two; a batch of one row is dropped). Members
also stop at their own epochs (each its own early stopping), which a stock optimizer would not
see either. No network is trained::

    python benchmarks/perf/member_steps.py --suite dev-wide --data-home ../shared/datasets
"""

import argparse

import numpy as np

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.bench._protocols import splits
from qclmix_sklearn.bench._runner import job_data
from qclmix_sklearn.bench._suites import get_suite, load_dataset


def batches_per_epoch(model, y_train):
    """The batches of each default member's epoch when ``model`` fits ``y_train``."""
    return [model._training_plan(y_train[fit_rows], True, 0, None, None).n_batches
            for fit_rows, _ in model._training_parts(y_train, seed=0)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="dev-wide")
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    suite = get_suite(args.suite)
    model = QCLMixClassifier()
    fits = differ = 0
    for name in suite.datasets:
        load = suite.load_dataset or load_dataset
        _, y, _ = job_data(load(name, data_home=args.data_home))
        for *_, train, _ in splits(suite.protocol, y, n_splits=suite.n_splits,
                                   seeds=suite.seeds):
            counts = batches_per_epoch(model, np.unique(y[train], return_inverse=True)[1])
            fits += 1
            differ += len(set(counts)) > 1
    print(f"{args.suite}: {differ} of {fits} default fits ({differ / fits:.0%}) have members "
          "whose epochs have different numbers of batches")


if __name__ == "__main__":
    main()
