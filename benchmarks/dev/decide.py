"""Paired comparison of QCLMix variants on the dev suite: the rule every default is chosen by.

    python benchmarks/dev/decide.py [--db benchmarks/results/dev.sqlite] [--reference qclmix]
        [--models qclmix_argmax,qclmix_narrow] [--running] [--brief] [--cost]

For each variant V against the reference R (the defaults), on the datasets where both have every
(fold, seed) job of the reference, it prints:

- per dataset, Δ_d = mean over the paired (fold, seed) runs of macro-F1(V) − macro-F1(R), and its
  fold-to-fold standard error SE_d = std(paired differences) / sqrt(runs);
- over datasets, the mean Δ = mean_d Δ_d, its standard error SE = sqrt(Σ_d SE_d²) / n_datasets,
  and wins / ties / losses of V (a tie being |Δ_d| ≤ 0.005, the reports' rule);
- the verdict: ``better`` when mean Δ > 2 SE, ``worse`` when mean Δ < −2 SE, else ``noise``;
- the two robustness figures of SPEC §8, for the reference and the variant on the same datasets:
  the mean difference to the best modern peer of each dataset (the peer with the highest mean
  macro-F1 there, picked after the fact as the reports do) and the number of datasets more than
  0.05 below it;
- ``preferred``: ``yes`` when the variant is ``better``, or when it has fewer datasets far below
  the best peer and is not ``worse`` (a model for imbalanced data is judged by its worst datasets
  too), else ``no``;
- beside it, as a diagnostic that is not part of the rule, the mean Δ and verdict without the
  dataset of the largest |Δ_d| (does one dataset carry the verdict?).

The rule for the defaults (issue 13, widened by issue 21 before any variant was measured with
it): an option stays a default only when undoing it (its ablation) is not ``preferred``; a lever
becomes a default only when adding it is ``preferred``. Otherwise the simpler setting (the
paper's, or the lever off) is kept.
"""

import argparse

import numpy as np
import pandas as pd

from qclmix_sklearn.bench._report import _markdown_table
from qclmix_sklearn.bench._stats import TIE
from qclmix_sklearn.bench._suites import PEERS, TUNED_PEERS
from qclmix_sklearn.bench._store import read_successes

#: Standard errors a mean difference must exceed to count as beyond the fold-to-fold noise.
NOISE_SE = 2.0
#: How far below the best peer a dataset's mean macro-F1 must be to count as a loss (SPEC §8).
FAR_BELOW = 0.05
#: The modern peers the robustness figures compare with (those of them the store has).
PEER_MODELS = (*PEERS, *TUNED_PEERS)


def paired_deltas(results, reference, variant):
    """``DataFrame(dataset -> delta, se, runs)`` of ``variant`` minus ``reference``, paired runs."""
    scores = results.pivot_table(index=["dataset", "fold", "seed"], columns="model",
                                 values="f1_macro")
    if reference not in scores or variant not in scores:
        return pd.DataFrame(columns=["delta", "se", "runs"])
    pairs = scores[[reference, variant]]
    complete = pairs[reference].notna().groupby("dataset").sum()
    both = pairs.dropna()
    diff = (both[variant] - both[reference]).groupby("dataset")
    table = pd.DataFrame({"delta": diff.mean(), "se": diff.std(ddof=1) / np.sqrt(diff.size()),
                          "runs": diff.size()})
    # only datasets where the variant has every run the reference has
    return table[table["runs"] == complete.reindex(table.index)]


def verdict(table):
    """``(mean Δ, SE, wins, ties, losses, verdict)`` over the datasets of ``paired_deltas``."""
    n = len(table)
    if n == 0:
        return np.nan, np.nan, 0, 0, 0, "no data"
    mean = table["delta"].mean()
    se = np.sqrt((table["se"].fillna(0) ** 2).sum()) / n
    wins = int((table["delta"] > TIE).sum())
    losses = int((table["delta"] < -TIE).sum())
    word = "better" if mean > NOISE_SE * se else "worse" if mean < -NOISE_SE * se else "noise"
    return mean, se, wins, n - wins - losses, losses, word


def robustness(results, model, datasets, peers=PEER_MODELS):
    """``(mean Δ to the best peer, datasets more than FAR_BELOW below it)`` of ``model``.

    Over those of ``datasets`` where the model and a peer have results; NaN and 0 where none.
    """
    means = results[results["dataset"].isin(datasets)].groupby(
        ["dataset", "model"])["f1_macro"].mean().unstack()
    present = [peer for peer in peers if peer in means]
    if model not in means or not present:
        return np.nan, 0
    delta = (means[model] - means[present].max(axis=1)).dropna()
    return delta.mean(), int((delta < -FAR_BELOW).sum())


def fit_seconds(results, model, datasets):
    """Mean fit seconds of ``model``'s jobs on ``datasets`` (the store's ``fit_time``)."""
    rows = results[(results["model"] == model) & results["dataset"].isin(datasets)]
    return rows["fit_time"].mean()


def decide(results, reference, variants, peers=PEER_MODELS):
    """Rows ``[variant, n datasets, mean Δ, SE, W/T/L, verdict, Δ to the best peer, far below,
    preferred, without the largest, per dataset]``; robustness figures as ``reference → variant``."""
    rows = []
    for variant in variants:
        table = paired_deltas(results, reference, variant)
        mean, se, wins, ties, losses, word = verdict(table)
        largest = table["delta"].abs().idxmax() if len(table) > 1 else None
        rest = verdict(table.drop(index=largest)) if largest is not None else verdict(table[:0])
        per_dataset = ", ".join(f"{d} {v:+.3f}" for d, v in table["delta"].items())
        (ref_delta, ref_far), (var_delta, var_far) = (
            robustness(results, model, table.index, peers) for model in (reference, variant))
        preferred = word == "better" or (var_far < ref_far and word != "worse")
        rows.append([variant, len(table), f"{mean:+.4f}", f"{se:.4f}",
                     f"{wins}/{ties}/{losses}", word,
                     f"{ref_delta:+.3f} → {var_delta:+.3f}", f"{ref_far} → {var_far}",
                     "yes" if preferred else "no",
                     f"{rest[0]:+.4f} {rest[-1]} (without {largest})", per_dataset])
    return rows


def matching_datasets(results, pattern):
    """The rows of the datasets whose names match the regular expression ``pattern`` in full."""
    return results[results["dataset"].str.fullmatch(pattern)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="benchmarks/results/dev.sqlite")
    parser.add_argument("--protocol", default="cv")
    parser.add_argument("--reference", default="qclmix")
    parser.add_argument("--models", help="comma-separated variants (default: every qclmix_* model)")
    parser.add_argument("--running", action="store_true",
                        help="the store is still being written (do not open it as immutable)")
    parser.add_argument("--brief", action="store_true", help="without the per-dataset column")
    parser.add_argument("--cost", action="store_true",
                        help="add the mean fit seconds per job, reference → variant, on the same "
                             "datasets (comparable only for jobs run under the same load)")
    parser.add_argument("--datasets",
                        help="a regular expression: only the datasets whose names match it in "
                             "full (e.g. '.*@noise50'; '[^@]*': none of the variants)")
    args = parser.parse_args(argv)
    results = read_successes(args.db, args.protocol, finished=not args.running)
    if args.datasets:
        results = matching_datasets(results, args.datasets)
    variants = (args.models.split(",") if args.models else sorted(
        m for m in results["model"].unique() if m.startswith("qclmix_")))
    header = ["variant", "datasets", f"mean Δ vs {args.reference}", "SE", "W/T/L", "verdict",
              "Δ to the best peer", f"datasets > {FAR_BELOW} below it", "preferred",
              "without the largest |Δ_d|", "Δ per dataset"]
    rows = decide(results, args.reference, variants)
    if args.cost:
        for variant, row in zip(variants, rows):
            datasets = paired_deltas(results, args.reference, variant).index
            seconds = (fit_seconds(results, m, datasets) for m in (args.reference, variant))
            row.insert(-1, "{:.1f} → {:.1f}".format(*seconds))
        header.insert(-1, "fit s per job")
    if args.brief:
        header, rows = header[:-1], [row[:-1] for row in rows]
    print(_markdown_table(header, rows))


if __name__ == "__main__":
    main()
