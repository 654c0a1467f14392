"""Statistics over datasets (Demšar 2006): Friedman, Iman–Davenport, Nemenyi and Holm tests."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

#: |Δ macro-F1| up to which two models tie on a dataset: the one tie rule of every report and table.
TIE = 0.005

METRICS = {
    "accuracy": "Accuracy",
    "precision_macro": "maP",
    "recall_macro": "maR",
    "f1_macro": "maF1 (sklearn)",
    "f1_paper": "maF1 (paper: harmonic mean of maP, maR)",
}


def score_table(results, metric="f1_macro", protocol=None):
    """Datasets × models table of ``metric``, the mean over folds and seeds of successful jobs."""
    if metric not in results.columns:
        raise ValueError(f"unknown metric {metric!r}; available: {list(METRICS)}")
    ok = results[results["status"] == "ok"]
    if protocol is not None:
        ok = ok[ok["protocol"] == protocol]
    if ok.empty:
        return pd.DataFrame()
    return ok.pivot_table(index="dataset", columns="model", values=metric, aggfunc="mean")


def complete_cases(table):
    """Keep the datasets on which every model has a score (the tests need a full block design)."""
    return table.dropna(axis=0, how="any")


def complete_block(table):
    """The complete datasets × models block of the tests, and notes on what it leaves out.

    Models with a result on at most half of the datasets are dropped first, then the datasets where
    a remaining model has none.
    """
    notes = []
    if table.empty:
        return table, notes
    sparse = [m for m in table.columns if table[m].isna().mean() > 0.5]
    if sparse:
        notes.append(
            "models left out of the tests (results on at most half of the datasets): "
            + ", ".join(sparse)
        )
    table = table.drop(columns=sparse)
    gappy = table.index[table.isna().any(axis=1)].tolist()
    if gappy:
        notes.append(
            f"datasets left out of the tests (a model has no result there): {', '.join(gappy)}"
        )
    return table.dropna(axis=0, how="any"), notes


def rank_table(table, lower_is_better=False):
    """Rank of every model on every dataset, 1 = best, ties get their average rank.

    The best is the largest value, or with ``lower_is_better`` the smallest (e.g. a log-loss).
    """
    return table.rank(axis=1, ascending=lower_is_better, method="average")


@dataclass
class FriedmanResult:
    """Friedman chi-square, the Iman–Davenport F correction and the average ranks they use."""

    statistic: float
    pvalue: float
    iman_davenport: float
    iman_davenport_pvalue: float
    n_datasets: int
    n_models: int
    average_ranks: pd.Series = field(default_factory=pd.Series)
    note: str = ""


def _iman_davenport(chi2, n, k):
    denominator = n * (k - 1) - chi2
    if denominator <= 0:  # perfect agreement between datasets
        return np.inf, 0.0
    f = (n - 1) * chi2 / denominator
    return float(f), float(stats.f.sf(f, k - 1, (k - 1) * (n - 1)))


def friedman_test(table, ranks=None):
    """Friedman test of the models (columns) over the datasets (rows) of a complete ``table``.

    ``ranks`` (same shape, 1 = best) may be given instead of recomputing them from ``table``,
    e.g. the metric-averaged ranks of the global test.
    """
    table = complete_cases(table)
    n, k = table.shape
    if ranks is None:
        ranks = rank_table(table)
    else:
        ranks = ranks.loc[table.index, table.columns]
    average = ranks.mean(axis=0).sort_values()
    if n < 2 or k < 3:
        return FriedmanResult(
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            n,
            k,
            average,
            f"needs at least 2 complete datasets and 3 models (have {n} and {k})",
        )
    # friedmanchisquare ranks within each dataset itself; feed it "higher is better" scores.
    chi2, p = stats.friedmanchisquare(*(-ranks[c].to_numpy() for c in ranks.columns))
    if not np.isfinite(chi2):
        return FriedmanResult(
            np.nan, np.nan, np.nan, np.nan, n, k, average, "all models tie on every dataset"
        )
    f, pf = _iman_davenport(chi2, n, k)
    return FriedmanResult(float(chi2), float(p), f, pf, n, k, average)


def _no_results():
    empty = pd.Series(dtype=float)
    return FriedmanResult(np.nan, np.nan, np.nan, np.nan, 0, 0, empty, "no results")


def _common_block(tables):
    """The complete tables of ``tables`` (metric -> table) and the datasets and models all share."""
    tables = [complete_cases(t) for t in tables.values() if not t.empty]
    if not tables:
        return tables, [], []
    datasets = sorted(set.intersection(*(set(t.index) for t in tables)))
    models = sorted(set.intersection(*(set(t.columns) for t in tables)))
    return tables, datasets, models


def global_friedman(tables):
    """Friedman test over ranks averaged across metrics (``tables``: metric -> table)."""
    tables, datasets, models = _common_block(tables)
    if not tables:
        return _no_results()
    ranks = [rank_table(t.loc[datasets, models]) for t in tables]
    averaged = sum(ranks) / len(ranks)
    return friedman_test(-averaged, ranks=averaged)


def metrics_as_blocks_friedman(tables):
    """The paper's global test (§5.3.2, Table 6 bottom row), reproduced for comparison.

    It takes each model's average rank over datasets, averages it over the metrics and plugs it into
    the Friedman formula with the N metrics as blocks. The metrics are not independent measurements
    (they are computed from the same predictions), so prefer :func:`global_friedman`.
    """
    tables, datasets, models = _common_block(tables)
    if not tables:
        return _no_results()
    n, k = len(tables), len(models)
    average = sum(rank_table(t.loc[datasets, models]).mean() for t in tables) / n
    average = average.sort_values()
    if not datasets or n < 2 or k < 3:
        return FriedmanResult(
            np.nan,
            np.nan,
            np.nan,
            np.nan,
            n,
            k,
            average,
            f"needs at least 2 metrics and 3 models (have {n} and {k})",
        )
    chi2 = 12 * n / (k * (k + 1)) * float(np.sum(average.to_numpy() ** 2)) - 3 * n * (k + 1)
    f, pf = _iman_davenport(chi2, n, k)
    return FriedmanResult(chi2, float(stats.chi2.sf(chi2, k - 1)), f, pf, n, k, average)


def _rank_se(n, k):
    return np.sqrt(k * (k + 1) / (6.0 * n))


def nemenyi(average_ranks, n_datasets, alpha=0.05):
    """Nemenyi post-hoc test: critical difference and the matrix of pairwise p-values.

    Two models differ significantly when their average ranks differ by more than the critical
    difference ``q_alpha * sqrt(k (k + 1) / (6 N))``.
    """
    k = len(average_ranks)
    if k < 2 or n_datasets < 1:
        raise ValueError(
            f"Nemenyi needs at least 2 models and 1 dataset (have {k} and {n_datasets})"
        )
    se = _rank_se(n_datasets, k)
    q_alpha = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    cd = float(q_alpha * se)
    names = list(average_ranks.index)
    values = average_ranks.to_numpy()
    pvalues = pd.DataFrame(1.0, index=names, columns=names)
    for i in range(k):
        for j in range(i + 1, k):
            q = abs(values[i] - values[j]) / se * np.sqrt(2)
            p = float(stats.studentized_range.sf(q, k, np.inf)) if q > 0 else 1.0
            pvalues.iloc[i, j] = pvalues.iloc[j, i] = min(1.0, max(0.0, p))
    return cd, pvalues


def holm(average_ranks, n_datasets, control, alpha=0.05):
    """Holm step-down test of every model against ``control`` (e.g. "qclmix") on average ranks."""
    if control not in average_ranks.index:
        raise ValueError(f"control model {control!r} is not among {list(average_ranks.index)}")
    k = len(average_ranks)
    se = _rank_se(n_datasets, k)
    others = average_ranks.drop(control)
    z = (others - average_ranks[control]) / se
    p = pd.Series(2 * stats.norm.sf(np.abs(z.to_numpy())), index=others.index)
    order = p.sort_values().index
    m = len(order)
    adjusted = np.maximum.accumulate([min(1.0, (m - i) * p[name]) for i, name in enumerate(order)])
    table = pd.DataFrame(
        {
            "average_rank": others[order],
            "z": z[order],
            "p": p[order],
            "p_holm": adjusted,
        }
    )
    table["significant"] = table["p_holm"] < alpha
    return table
