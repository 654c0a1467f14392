"""Which shadow rule separates real from added noise columns on the dev suite's noise variants.

The rule of ``feature_selection='shadow'`` (``qclmix_sklearn/preprocessing/_shadow_selection.py``)
keeps a column that beats a quantile of its round's shadows in enough of 5 rounds. On every
``name@noiseN`` dataset of the ``dev-wide`` suite (dev data: the added columns are known to be
noise), on the training part of fold 0 of seed 0 after the benchmark's imputation and scaling,
this prints for each quantile (1.0: the shadows' maximum, Boruta's) and vote threshold the share of
the dataset's own columns kept and of the noise columns kept, per dataset and on average::

    python benchmarks/dev/shadow_rule.py --data-home ../shared/datasets
"""

import argparse

import numpy as np
import pandas as pd

from qclmix_sklearn.bench._models import wrap
from qclmix_sklearn.bench._protocols import splits
from qclmix_sklearn.bench._runner import job_data
from qclmix_sklearn.bench._suites import get_suite
from qclmix_sklearn.datasets._variants import split_variant
from qclmix_sklearn.preprocessing._shadow_selection import N_ROUNDS, shadow_votes

QUANTILES = (1.0, 0.9)
THRESHOLDS = (1, N_ROUNDS // 2 + 1, N_ROUNDS)


def kept_shares(X, y, n_noise):
    """``{(quantile, votes needed): (share of real columns kept, share of noise columns kept)}``."""
    votes = shadow_votes(X, y, random_state=0, quantiles=QUANTILES)
    real = X.shape[1] - n_noise
    return {(q, k): ((votes[q][:real] >= k).mean(), (votes[q][real:] >= k).mean())
            for q in QUANTILES for k in THRESHOLDS}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    suite = get_suite("dev-wide")
    rows = {}
    for name in suite.datasets:
        _, kind, n_noise = split_variant(name)
        if kind != "noise":
            continue
        X, y, _ = job_data(suite.load_dataset(name, data_home=args.data_home))
        _, _, train, _ = splits(suite.protocol, y, n_splits=suite.n_splits, seeds=(0,))[0]
        X_train = wrap(None)[0][:-1].fit_transform(X[train])  # the job's imputation and scaling
        shares = kept_shares(np.asarray(X_train, dtype=np.float32), y[train], n_noise)
        rows[name] = {f"q{q:g} >= {k}: {kind}": share[i] for (q, k), share in shares.items()
                      for i, kind in enumerate(("real", "noise"))}
    table = pd.DataFrame.from_dict(rows, orient="index")
    print(table.to_string(float_format="%.2f"))
    print(f"\nmean over {len(table)} datasets:")
    print(table.mean().to_string(float_format="%.2f"))


if __name__ == "__main__":
    main()
