"""The report's threshold-free metrics: ranks per metric, values per dataset, reliability diagrams.

Everything is read from the store; a store written before these metrics existed has them missing
("—"), never 0.
"""

import json

import numpy as np

from . import _figures
from ._markdown import fmt, markdown_table, pvalue
from ._models import QCLMIX_VARIANTS
from ._probability_metrics import (
    BINS_COLUMN,
    LOWER_IS_BETTER,
    N_BINS,
    PROBABILITY_METRICS,
    expected_calibration_error,
    pool_calibration_bins,
)
from ._stats import complete_block, friedman_test, rank_table, score_table

#: The models QCLMix's reliability diagram is drawn against when they ran (the modern peers).
RELIABILITY_RIVALS = ("catboost", "realmlp")
N_RELIABILITY_DATASETS = 3

EXPLANATION = (
    "Computed from `predict_proba` on the test part, whatever the model's own decision rule (a "
    "tuned decision, e.g. QCLMix's class offsets, changes the F1s above but not these). **AP** "
    "(average precision) and **ROC-AUC**: macro means of the one-vs-rest scores over the classes "
    "present in the test part; higher is better; they judge how well the probabilities rank the "
    "rows of each class, at every threshold. **Log-loss** and **Brier** score: proper scoring "
    "rules, lower is better; they judge the probabilities themselves. Brier is the binary one "
    "(in [0, 1]) on two classes, the multi-class one (sum over classes, in [0, 2]) on more: "
    f"compare it within a dataset. **ECE**: the expected calibration error in {N_BINS} equal-width "
    "bins of the top-label confidence (the largest probability), the row-weighted mean of "
    "|accuracy − confidence|; lower is better; 0.05 means the model's stated confidence is off by "
    "5 points on average. Jobs stored before these metrics existed, and models without "
    "`predict_proba`, show —."
)


def with_probability_columns(results):
    """``results`` with the threshold-free columns, missing (NaN) where the store predates them."""
    missing = [c for c in (*PROBABILITY_METRICS, BINS_COLUMN) if c not in results.columns]
    return results.assign(**dict.fromkeys(missing, np.nan))


def per_dataset_lines(part, order, control):
    """Mean ± std over runs of the threshold-free metrics of the models in ``order`` (a dataset)."""
    columns = list(PROBABILITY_METRICS)
    if not part[columns].notna().any(axis=None):
        return []
    stats = part.groupby("model")[columns].agg(["mean", "std", "count"])
    rows = []
    for model in order:
        count = int(stats.loc[model, (columns[0], "count")]) if model in stats.index else 0
        cells = [f"**{model}**" if model == control else model, count]
        for column in columns:
            mean = stats.loc[model, (column, "mean")] if count else np.nan
            std = stats.loc[model, (column, "std")] if count else np.nan
            cells.append(fmt(mean) + (f" ± {fmt(std)}" if np.isfinite(std) else ""))
        rows.append(cells)
    labels = ["model", "runs with probabilities", *PROBABILITY_METRICS.values()]
    return ["", markdown_table(labels, rows)]


def probability_section(done, models, control, out, prefix, figures):
    """Lines of the threshold-free section for the successful jobs ``done`` of one protocol.

    ``models``: the ranked models (QCLMix and the baselines); ``figures`` gets the diagram's name.
    """
    lines = ["", "### Threshold-free metrics (from predict_proba on the test part)", ""]
    if not done[list(PROBABILITY_METRICS)].notna().any(axis=None):
        return lines + [
            "No job of this protocol stored them (jobs stored before these metrics existed, and "
            "models without `predict_proba`, have none)."
        ]
    lines.append(EXPLANATION)
    ranks, sizes, pvalues, notes = {}, {}, {}, {}
    scored = set(done.loc[done[list(PROBABILITY_METRICS)].notna().any(axis=1), "model"])
    absent = [m for m in models if m not in scored]
    if absent:
        notes[
            "models without these metrics (no `predict_proba`, or every job stored before they "
            f"existed): {', '.join(absent)}"
        ] = None
    for metric, label in PROBABILITY_METRICS.items():
        table = score_table(done, metric)
        block, dropped = complete_block(table[[m for m in table.columns if m in models]])
        notes.update(dict.fromkeys(dropped))
        if block.shape[0] < 1 or block.shape[1] < 2:
            continue
        metric_ranks = rank_table(block, lower_is_better=metric in LOWER_IS_BETTER)
        ranks[label] = metric_ranks.mean()
        sizes[label] = block.shape[0]
        pvalues[label] = friedman_test(block, ranks=metric_ranks).pvalue
    lines += [""] + [f"- {note}" for note in notes]
    if ranks:
        labels = list(ranks)
        # by the log-loss rank (the proper scoring rule), then by name
        primary = ranks.get(PROBABILITY_METRICS["log_loss"], ranks[labels[0]])
        order = sorted(
            set().union(*(r.index for r in ranks.values())),
            key=lambda m: (primary.get(m, np.inf), m),
        )
        rows = [[m, *(fmt(ranks[label].get(m, np.nan), 2) for label in labels)] for m in order]
        rows.append(["datasets (N)", *(sizes[label] for label in labels)])
        rows.append(["Friedman p", *(pvalue(pvalues[label]) for label in labels)])
        lines += [
            "",
            "Average rank per metric (1 = best: the highest AP and ROC-AUC, the lowest log-loss, "
            "Brier and ECE), over the datasets where every ranked model has the metric:",
            "",
            markdown_table(["model", *(f"{label} rank" for label in labels)], rows),
        ]
        baselines = [m for m in order if m not in QCLMIX_VARIANTS]
        lines += _reliability_lines(done, control, baselines, out, prefix, figures)
    return lines


def _reliability_lines(done, control, fallback_rivals, out, prefix, figures):
    """A reliability diagram of ``control`` against the peers (else the first two of
    ``fallback_rivals``) on the datasets with the largest test parts."""
    stored = done.dropna(subset=[BINS_COLUMN])
    pooled = {
        key: pool_calibration_bins([json.loads(b) for b in part[BINS_COLUMN]])
        for key, part in stored.groupby(["dataset", "model"])
    }
    models = {model for _, model in pooled}
    rivals = [m for m in RELIABILITY_RIVALS if m in models] or [
        m for m in fallback_rivals if m in models
    ][:2]
    datasets = sorted(
        (d for d, m in pooled if m == control),
        key=lambda d: (-sum((d, r) in pooled for r in rivals), -sum(pooled[d, control]["count"])),
    )[:N_RELIABILITY_DATASETS]
    if not datasets:
        return []
    panels = []
    for dataset in datasets:
        curves = {}
        for model in [control, *rivals]:
            bins = pooled.get((dataset, model))
            if bins is not None:
                ece = expected_calibration_error(bins)
                curves[f"{model} (ECE {fmt(ece)}, n={sum(bins['count'])})"] = bins
        panels.append((dataset, curves))
    name = f"{prefix}fig6_reliability.png"
    _figures.reliability_figure(panels, out / name)
    figures.append(name)
    return [
        "",
        f"Reliability of {control} against {', '.join(rivals) or 'no other model'} (test parts "
        f"pooled over folds and seeds; per bin of the top-label confidence, the accuracy against "
        "the mean confidence; on the diagonal a model is as often right as it claims; marker "
        "area: rows in the bin; ECE of the pooled bins):",
        "",
        f"![reliability diagrams]({name})",
    ]
