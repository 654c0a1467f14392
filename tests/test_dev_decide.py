"""benchmarks/dev/decide.py: the paired rule that chooses QCLMix's defaults on the dev suite."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

_PATH = Path(__file__).parents[1] / "benchmarks" / "dev" / "decide.py"
_spec = importlib.util.spec_from_file_location("decide", _PATH)
decide = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(decide)


def _results(shifts, noise=0.0, n_runs=6, seed=0):
    """Rows of ``ref`` and ``var`` on datasets d0.., var = ref + shift_d + noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, shift in enumerate(shifts):
        for run in range(n_runs):
            base = 0.7 + 0.05 * rng.standard_normal()
            fold, seed_ = run % 3, run // 3
            rows.append(dict(dataset=f"d{d}", model="ref", fold=fold, seed=seed_, f1_macro=base))
            rows.append(dict(dataset=f"d{d}", model="var", fold=fold, seed=seed_,
                             f1_macro=base + shift + noise * rng.standard_normal()))
    return pd.DataFrame(rows)


def test_differences_are_paired_by_fold_and_seed():
    # the runs' own spread (0.05) is large, the paired difference is exactly +0.01
    table = decide.paired_deltas(_results([0.01, 0.01, 0.01]), "ref", "var")
    assert table["delta"].to_numpy() == pytest.approx([0.01] * 3)
    assert table["se"].to_numpy() == pytest.approx([0.0] * 3, abs=1e-12)
    mean, se, wins, ties, losses, word = decide.verdict(table)
    assert (wins, ties, losses, word) == (3, 0, 0, "better")


def test_a_mean_within_two_standard_errors_is_noise():
    results = _results([0.004, -0.002, 0.003, 0.001], noise=0.05, seed=1)
    mean, se, *_, word = decide.verdict(decide.paired_deltas(results, "ref", "var"))
    assert abs(mean) <= 2 * se
    assert word == "noise"


def test_a_clear_loss_is_worse_and_ties_follow_the_report_rule():
    mean, se, wins, ties, losses, word = decide.verdict(
        decide.paired_deltas(_results([-0.03, -0.02, 0.004]), "ref", "var"))
    assert (wins, ties, losses, word) == (0, 1, 2, "worse")


def test_datasets_where_the_variant_misses_runs_are_left_out():
    results = _results([0.01, 0.02])
    results = results.drop(results[(results.model == "var") & (results.dataset == "d1")
                                   & (results.fold == 0)].index)
    table = decide.paired_deltas(results, "ref", "var")
    assert list(table.index) == ["d0"]


def test_an_unknown_variant_gives_no_data():
    table = decide.paired_deltas(_results([0.01]), "ref", "missing")
    assert decide.verdict(table)[-1] == "no data"


def test_the_diagnostic_drops_the_dataset_of_the_largest_difference():
    results = _results([0.3, 0.001, -0.002, 0.0], noise=0.02)  # one dataset carries the mean
    (row,) = decide.decide(results, "ref", ["var"])
    assert row[5] == "better"
    assert row[6].endswith("noise (without d0)")
