"""How much each model loses when uninformative columns are added (Grinsztajn et al., NeurIPS 2022).

For every dataset ``name@noiseN`` of the ``dev-wide`` store whose base ``name`` is stored too,
the mean test macro-F1 of each model on both (over the jobs stored for it) and the drop, then the
mean drop over the datasets where every model has both::

    python benchmarks/dev/noise_drop.py --models qclmix,catboost
"""

import argparse

import pandas as pd

from qclmix_sklearn.bench._store import read_successes


def noise_drops(results, models):
    """``DataFrame`` indexed by (dataset, noise columns): each model's base and noisy macro-F1."""
    means = results.groupby(["dataset", "model"])["f1_macro"].mean().unstack()
    rows = {}
    for name in means.index:
        base, _, noise = name.partition("@noise")
        if not noise or base not in means.index:
            continue
        row = {}
        for model in models:
            row[model] = means.loc[base].get(model)
            row[f"{model}@noise"] = means.loc[name].get(model)
            row[f"{model} drop"] = row[f"{model}@noise"] - row[model]
        rows[(base, int(noise))] = row
    return pd.DataFrame.from_dict(rows, orient="index").dropna()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="benchmarks/results/dev-wide.sqlite")
    parser.add_argument("--models", default="qclmix,catboost")
    parser.add_argument("--running", action="store_true", help="the store is being written")
    args = parser.parse_args(argv)
    models = args.models.split(",")
    table = noise_drops(read_successes(args.db, "cv", finished=not args.running), models)
    print(table.to_string(float_format="%.3f"))
    for noise, part in table.groupby(level=1):
        drops = ", ".join(f"{m} {part[f'{m} drop'].mean():+.3f}" for m in models)
        print(f"\n{noise} noise columns, {len(part)} datasets: mean drop {drops}")


if __name__ == "__main__":
    main()
