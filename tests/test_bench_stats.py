"""Friedman / Iman-Davenport / Nemenyi / Holm against hand-computed values (Demšar 2006)."""

import numpy as np
import pandas as pd
import pytest

from qclmix_sklearn.bench._stats import (
    friedman_test,
    global_friedman,
    holm,
    nemenyi,
    rank_table,
    score_table,
)


@pytest.fixture
def table():
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=(8, 4)) + np.array([0.3, 0.2, 0.0, -0.2])  # model "a" tends to win
    return pd.DataFrame(scores, index=[f"d{i}" for i in range(8)], columns=list("abcd"))


def test_friedman_matches_textbook_formula(table):
    result = friedman_test(table)
    n, k = table.shape
    ranks = rank_table(table)
    assert ranks.loc["d0"].sort_values().tolist() == [1, 2, 3, 4]
    r = ranks.mean()
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4)  # no ties here
    assert result.statistic == pytest.approx(chi2)
    f = (n - 1) * chi2 / (n * (k - 1) - chi2)
    assert result.iman_davenport == pytest.approx(f)
    assert 0 <= result.pvalue <= 1 and 0 <= result.iman_davenport_pvalue <= 1
    assert result.average_ranks.index[0] == "a"


def test_friedman_needs_enough_data(table):
    result = friedman_test(table.iloc[:1])
    assert np.isnan(result.statistic) and "at least" in result.note
    assert np.isnan(friedman_test(table[["a", "b"]]).statistic)


def test_perfect_agreement_gives_zero_pvalue():
    table = pd.DataFrame([[0.9, 0.8, 0.7]] * 5, columns=list("abc"))
    result = friedman_test(table)
    assert result.iman_davenport == np.inf and result.iman_davenport_pvalue == 0.0
    assert result.pvalue < 0.01


def test_nemenyi_critical_difference_matches_demsar_table():
    ranks = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=list("abcde"))
    cd, pvalues = nemenyi(ranks, n_datasets=10, alpha=0.05)
    # q_0.05 for k = 5 is 2.728 (Demšar 2006, Table 5)
    assert cd == pytest.approx(2.728 * np.sqrt(5 * 6 / 60), rel=1e-3)
    assert pvalues.loc["a", "e"] < 0.05 < pvalues.loc["a", "b"]
    assert (pvalues.to_numpy() == pvalues.to_numpy().T).all()


def test_holm_against_control():
    ranks = pd.Series([1.2, 2.0, 3.5, 3.3], index=["qclmix", "b", "c", "d"])
    table = holm(ranks, n_datasets=12, control="qclmix")
    assert list(table.index) == ["c", "d", "b"]  # most significant first
    assert (np.diff(table["p_holm"]) >= 0).all()
    assert (table["p_holm"] >= table["p"]).all()
    with pytest.raises(ValueError, match="control"):
        holm(ranks, 12, control="nope")


def test_score_table_and_global_friedman(table):
    rows = []
    for dataset in table.index:
        for model in table.columns:
            for fold in range(2):
                rows.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "protocol": "cv",
                        "status": "ok",
                        "f1_macro": table.loc[dataset, model] + (0.01 if fold else -0.01),
                        "accuracy": table.loc[dataset, model],
                    }
                )
    rows.append(
        {
            "dataset": "d0",
            "model": "a",
            "protocol": "cv",
            "status": "failed",
            "f1_macro": np.nan,
            "accuracy": np.nan,
        }
    )
    results = pd.DataFrame(rows)
    f1 = score_table(results, "f1_macro", "cv")
    pd.testing.assert_frame_equal(f1, table, check_names=False)  # mean over folds, failures ignored
    with pytest.raises(ValueError, match="metric"):
        score_table(results, "nope")
    result = global_friedman({"f1_macro": f1, "accuracy": score_table(results, "accuracy")})
    assert result.statistic == pytest.approx(friedman_test(table).statistic)


def test_paper_variant_of_the_global_test(table):
    """The paper's §5.3.2 formula, metrics as blocks, on the ranks averaged over the metrics."""
    from qclmix_sklearn.bench._stats import metrics_as_blocks_friedman

    other = table.copy()
    other["d"] += 0.5  # "d" wins every dataset on the second metric
    result = metrics_as_blocks_friedman({"f1_macro": table, "accuracy": other})
    r = (rank_table(table).mean() + rank_table(other).mean()) / 2
    n, k = 2, 4
    assert result.statistic == pytest.approx(
        12 * n / (k * (k + 1)) * np.sum(r**2) - 3 * n * (k + 1)
    )
    assert (result.n_datasets, result.n_models) == (2, 4)
    assert np.isnan(metrics_as_blocks_friedman({"f1_macro": table}).statistic)


def test_rank_direction():
    table = pd.DataFrame({"a": [0.9, 0.2], "b": [0.5, 0.5], "c": [0.1, 0.5]}, index=["d0", "d1"])
    assert rank_table(table).loc["d0"].tolist() == [1, 2, 3]  # larger is better
    assert rank_table(table).loc["d1"].tolist() == [3, 1.5, 1.5]  # ties share their ranks
    assert rank_table(table, lower_is_better=True).loc["d0"].tolist() == [3, 2, 1]  # a log-loss
