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
    assert row[9].endswith("noise (without d0)")


def _with_peer(results, peer_scores):
    """``results`` plus a peer ``catboost`` whose every run on dataset d scores peer_scores[d]."""
    rows = [dict(dataset=f"d{d}", model="catboost", fold=run % 3, seed=run // 3, f1_macro=score)
            for d, score in enumerate(peer_scores) for run in range(6)]
    return pd.concat([results, pd.DataFrame(rows)], ignore_index=True)


def test_robustness_is_the_mean_gap_to_the_best_peer_and_the_datasets_far_below_it():
    results = _with_peer(_results([0.0, 0.0, 0.0]), [0.6, 0.8, 0.9])
    results.loc[results.model == "ref", "f1_macro"] = 0.7
    delta, far = decide.robustness(results, "ref", ["d0", "d1", "d2"])
    assert delta == pytest.approx((0.1 - 0.1 - 0.2) / 3)
    assert far == 2  # 0.1 and 0.2 below; the 0.1 above counts for nothing
    assert decide.robustness(results, "ref", ["d0"]) == (pytest.approx(0.1), 0)
    assert np.isnan(decide.robustness(results, "ref", ["d0"], peers=("tabm",))[0])


def test_fewer_datasets_far_below_the_best_peer_within_noise_is_preferred():
    # var is 0.1 above ref on d0 only (where ref is far below the peer): noise on the mean of
    # 8 noisy datasets, but one dataset fewer far below the best peer.
    shifts = [0.1] + [0.0] * 7
    results = _with_peer(_results(shifts, noise=0.2, seed=3), [0.78] + [0.3] * 7)
    results.loc[(results.model == "ref") & (results.dataset == "d0"), "f1_macro"] = 0.65
    results.loc[(results.model == "var") & (results.dataset == "d0"), "f1_macro"] = 0.75
    (row,) = decide.decide(results, "ref", ["var"])
    assert row[5] == "noise"
    assert row[7] == "1 → 0"
    assert row[8] == "yes"
    (row,) = decide.decide(results, "var", ["ref"])  # the other way round: more far below
    assert (row[7], row[8]) == ("0 → 1", "no")


def test_the_printed_table_keeps_its_columns_whatever_a_cell_holds():
    from qclmix_sklearn.bench._markdown import markdown_table

    table = markdown_table(["variant", "without the largest |Δ_d|"], [["v", "a|b"]])
    # A "|" inside a cell is escaped: every line splits into the header's 2 cells.
    for line in table.splitlines():
        cells = [c for c in line.replace("\\|", "").strip("|").split("|")]
        assert len(cells) == 2


def test_fit_seconds_are_the_mean_over_the_datasets_asked_for():
    results = pd.DataFrame({"model": ["a", "a", "a", "b"], "dataset": ["d0", "d0", "d1", "d0"],
                            "fit_time": [1.0, 3.0, 10.0, 7.0]})
    assert decide.fit_seconds(results, "a", ["d0"]) == 2.0
    assert decide.fit_seconds(results, "a", ["d0", "d1"]) == pytest.approx(14 / 3)


def test_a_pattern_keeps_the_datasets_it_matches_in_full():
    results = pd.DataFrame({"dataset": ["a", "a@noise10", "a@noise50", "b@min15", "ba"]})
    assert list(decide.matching_datasets(results, "[^@]*")["dataset"]) == ["a", "ba"]
    assert list(decide.matching_datasets(results, ".*@noise50")["dataset"]) == ["a@noise50"]
    assert decide.matching_datasets(results, "b").empty  # in full, not a prefix


def test_noise_drop_pairs_each_noisy_dataset_with_its_base():
    spec = importlib.util.spec_from_file_location(
        "noise_drop", Path(__file__).parents[1] / "benchmarks" / "dev" / "noise_drop.py")
    noise_drop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(noise_drop)
    results = pd.DataFrame({
        "dataset": ["a", "a", "a@noise10", "a@noise10", "b@noise10", "a@noise50"],
        "model": ["m", "m", "m", "m", "m", "m"],
        "f1_macro": [0.8, 0.9, 0.6, 0.7, 0.5, 0.4],
    })
    table = noise_drop.noise_drops(results, ["m"])
    assert list(table.index) == [("a", 10), ("a", 50)]  # b has no base: left out
    assert table.loc[("a", 10), "m drop"] == pytest.approx(-0.2)
    assert table.loc[("a", 50), "m drop"] == pytest.approx(-0.45)
