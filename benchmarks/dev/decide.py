"""Paired comparison of QCLMix variants on the dev suite: the rule every default is chosen by.

    python benchmarks/dev/decide.py [--db benchmarks/results/dev.sqlite] [--reference qclmix]
        [--models qclmix_argmax,qclmix_narrow] [--running] [--brief]

For each variant V against the reference R (the defaults), on the datasets where both have every
(fold, seed) job of the reference, it prints:

- per dataset, Δ_d = mean over the paired (fold, seed) runs of macro-F1(V) − macro-F1(R), and its
  fold-to-fold standard error SE_d = std(paired differences) / sqrt(runs);
- over datasets, the mean Δ = mean_d Δ_d, its standard error SE = sqrt(Σ_d SE_d²) / n_datasets,
  and wins / ties / losses of V (a tie being |Δ_d| ≤ 0.005, the reports' rule);
- the verdict: ``better`` when mean Δ > 2 SE, ``worse`` when mean Δ < −2 SE, else ``noise``;
- beside it, as a diagnostic that is not part of the rule, the mean Δ and verdict without the
  dataset of the largest |Δ_d| (does one dataset carry the verdict?).

The rule for the defaults (issue 13): an option stays a default only when undoing it (its
ablation) is ``worse``; a lever becomes a default only when adding it is ``better``. Within noise,
the simpler setting (the paper's, or the lever off) is kept.
"""

import argparse

import numpy as np
import pandas as pd

from qclmix_sklearn.bench._report import _markdown_table
from qclmix_sklearn.bench._stats import TIE
from qclmix_sklearn.bench._store import read_successes

#: Standard errors a mean difference must exceed to count as beyond the fold-to-fold noise.
NOISE_SE = 2.0


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


def decide(results, reference, variants):
    """Rows ``[variant, n datasets, mean Δ, SE, W/T/L, verdict, without the largest, per dataset]``."""
    rows = []
    for variant in variants:
        table = paired_deltas(results, reference, variant)
        mean, se, wins, ties, losses, word = verdict(table)
        largest = table["delta"].abs().idxmax() if len(table) > 1 else None
        rest = verdict(table.drop(index=largest)) if largest is not None else verdict(table[:0])
        per_dataset = ", ".join(f"{d} {v:+.3f}" for d, v in table["delta"].items())
        rows.append([variant, len(table), f"{mean:+.4f}", f"{se:.4f}",
                     f"{wins}/{ties}/{losses}", word,
                     f"{rest[0]:+.4f} {rest[-1]} (without {largest})", per_dataset])
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="benchmarks/results/dev.sqlite")
    parser.add_argument("--protocol", default="cv")
    parser.add_argument("--reference", default="qclmix")
    parser.add_argument("--models", help="comma-separated variants (default: every qclmix_* model)")
    parser.add_argument("--running", action="store_true",
                        help="the store is still being written (do not open it as immutable)")
    parser.add_argument("--brief", action="store_true", help="without the per-dataset column")
    args = parser.parse_args(argv)
    results = read_successes(args.db, args.protocol, finished=not args.running)
    variants = (args.models.split(",") if args.models else sorted(
        m for m in results["model"].unique() if m.startswith("qclmix_")))
    header = ["variant", "datasets", f"mean Δ vs {args.reference}", "SE", "W/T/L", "verdict",
              "without the largest |Δ_d|", "Δ per dataset"]
    rows = decide(results, args.reference, variants)
    if args.brief:
        header, rows = header[:-1], [row[:-1] for row in rows]
    print(_markdown_table(header, rows))


if __name__ == "__main__":
    main()
