"""Mean macro-F1 of every model of a results store, per dataset and over datasets, as Markdown.

    python benchmarks/beyond/summarise.py benchmarks/results/screen.sqlite [--protocol cv]
        [--seeds 0] [--models qclmix,qclmix_paper] [--reference qclmix_paper]

Columns: mean over the store's folds and seeds per dataset, then the mean over datasets, the mean
rank (1 = best per dataset, ties averaged) and the mean difference to the reference model
(``--reference``, default the first model whose name is ``paper`` or ``qclmix_paper``).
Models with results on at most half of the datasets are left out; of the others, only datasets on
which every model has results are used, so that all models are compared on the same datasets.
"""

import argparse
import sqlite3

import pandas as pd

from qclmix_sklearn.bench._report import _markdown_table


def summary(db, protocol="cv", reference=None, seeds=None, models=None):
    with sqlite3.connect(db) as connection:
        results = pd.read_sql_query(
            "SELECT dataset, model, seed, f1_macro FROM results "
            "WHERE status = 'ok' AND protocol = ?",
            connection,
            params=(protocol,),
        )
    if seeds is not None:  # e.g. the seeds every model ran with: a like-for-like comparison
        results = results[results["seed"].isin(seeds)]
    if models is not None:
        results = results[results["model"].isin(models)]
    table = results.pivot_table(index="model", columns="dataset", values="f1_macro")
    # models run on at most half of the datasets (e.g. dropped early) would shrink the comparison
    table = table[table.notna().mean(axis=1) > 0.5].dropna(axis=1)
    ranks = table.rank(ascending=False).mean(axis=1)
    if reference is None:
        reference = next((m for m in ("paper", "qclmix_paper") if m in table.index), None)
    out = table.copy()
    out["mean"] = table.mean(axis=1)
    out["mean rank"] = ranks
    if reference is not None:
        out[f"Δ vs {reference}"] = (table - table.loc[reference]).mean(axis=1)
    return out.sort_values("mean", ascending=False)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--protocol", default="cv")
    parser.add_argument("--reference")
    parser.add_argument("--seeds", help="comma-separated seeds to keep (default: all)")
    parser.add_argument("--models", help="comma-separated models to keep (default: all)")
    args = parser.parse_args(argv)
    seeds = None if args.seeds is None else [int(s) for s in args.seeds.split(",")]
    models = None if args.models is None else args.models.split(",")
    table = summary(args.db, args.protocol, args.reference, seeds, models)
    rows = [[model, *(f"{v:+.3f}" if c.startswith("Δ") else f"{v:.3f}" for c, v in row.items())]
            for model, row in table.iterrows()]
    print(_markdown_table(["model", *table.columns], rows))


if __name__ == "__main__":
    main()
