"""The README's figures that are not in a report table, recomputed from the stores and the data.

    python benchmarks/beyond/facts.py [--results benchmarks/results]
        [--data-home ../shared/datasets]

Prints, as plain lines:

- fit times summed over the ``cv`` test folds of ``beyond.sqlite``: QCLMix with its defaults, in
  the paper's configuration (and their ratio), and the baselines' grid searches;
- wins / ties / losses of ``qclmix_paper`` against the best baseline of each dataset on the paper
  split (``paper.sqlite``), a tie being a macro-F1 difference within ±0.005, as in the reports;
- the macro-F1 of a depth-1 decision tree on arrhythmia under the ``cv`` protocol of the beyond
  suite (stratified 3-fold CV, seeds 0 and 1; median imputation and scaling in the pipeline);
- the share of the wine-quality rows whose features equal those of another row.

The stores are opened read-only; a job counts with its latest successful row.
"""

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.tree import DecisionTreeClassifier

from qclmix_sklearn.bench._models import is_qclmix, wrap
from qclmix_sklearn.bench._protocols import splits
from qclmix_sklearn.bench._stats import TIE
from qclmix_sklearn.bench._store import read_successes as successes
from qclmix_sklearn.datasets import load_benchmark



def fit_times(db):
    ok = successes(db, "cv")
    total = ok.groupby("model")["fit_time"].sum()
    baselines = [m for m in total.index if not is_qclmix(m)]
    ours, paper = total["qclmix"], total["qclmix_paper"]
    n_folds = ok[ok["model"] == "qclmix"].shape[0]
    return (
        f"fit time summed over the {n_folds} cv test folds ({Path(db).name}): "
        f"qclmix {ours:,.0f} s, "
        f"qclmix_paper {paper:,.0f} s ({ours / paper:.1f} times); the {len(baselines)} baselines' "
        f"grid searches {total[baselines].sum():,.0f} s"
    )


def paper_config_record(db, model="qclmix_paper"):
    table = successes(db, "paper").pivot_table(
        index="dataset", columns="model", values="f1_macro", aggfunc="mean"
    )
    baselines = [m for m in table.columns if not is_qclmix(m)]
    delta = (table[model] - table[baselines].max(axis=1)).dropna()
    wins, losses = int((delta > TIE).sum()), int((delta < -TIE).sum())
    ties = sorted(delta.index[delta.abs() <= TIE])
    return (
        f"{model} vs the best baseline per dataset, paper split ({Path(db).name}): {wins} wins, "
        f"{len(ties)} ties ({', '.join(ties)}; Δ within ±{TIE}), {losses} losses; "
        f"mean Δ {delta.mean():+.3f}"
    )


def depth_one_tree(data_home, name="arrhythmia"):
    bunch = load_benchmark(name, data_home=data_home)
    X, y = np.asarray(bunch.data, dtype=float), np.asarray(bunch.target)
    pipeline, _ = wrap(DecisionTreeClassifier(max_depth=1, random_state=0))
    scores = []
    for _, _, train, test in splits("cv", y, n_splits=3, seeds=(0, 1)):
        model = clone(pipeline).fit(X[train], y[train])
        scores.append(f1_score(y[test], model.predict(X[test]), average="macro"))
    return (
        f"{name}: a depth-1 decision tree scores macro-F1 {np.mean(scores):.3f} "
        f"± {np.std(scores):.3f} (stratified 3-fold CV, seeds 0 and 1)"
    )


def duplicates(data_home, names=("wine_quality_red", "wine_quality_white")):
    parts = []
    for name in names:
        features = pd.DataFrame(np.asarray(load_benchmark(name, data_home=data_home).data))
        parts.append(f"{name} {features.duplicated(keep=False).mean():.1%}")
    return "rows whose features equal another row's: " + ", ".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="benchmarks/results", type=Path)
    parser.add_argument("--data-home", default=None)
    args = parser.parse_args(argv)
    print(fit_times(args.results / "beyond.sqlite"))
    print(paper_config_record(args.results / "paper.sqlite"))
    print(depth_one_tree(args.data_home))
    print(duplicates(args.data_home))


if __name__ == "__main__":
    main()
