"""The Markdown report from a hand-made store (no model is trained here)."""

import sqlite3

import numpy as np
import pytest

from qclmix_sklearn.bench import ResultStore, build_report

MODELS = {"qclmix": 0.80, "qclmix_no_mixup": 0.75, "xgboost": 0.78, "knn": 0.60, "mlp": 0.70}
DATASETS = {"ecoli": "binary", "glass": "multiclass", "vehicle": "multiclass", "abalone": "binary"}


def _row(dataset, model, protocol, fold, seed, f1, param_hash="h", status="ok"):
    return {
        "dataset": dataset,
        "model": model,
        "protocol": protocol,
        "fold": fold,
        "seed": seed,
        "param_hash": param_hash,
        "suite": "hand",
        "status": status,
        "accuracy": f1,
        "precision_macro": f1,
        "recall_macro": f1,
        "f1_macro": f1,
        "f1_paper": f1,
        "fit_time": 1.0,
        "predict_time": 0.1,
        "params": {"model": model, "params": {"max_epochs": 20}, "grid": {"C": [1, 2]}},
        "versions": {"scikit-learn": "x"},
    }


@pytest.fixture
def store(tmp_path):
    rng = np.random.default_rng(0)
    with ResultStore(tmp_path / "r.sqlite") as store:
        for dataset, task in DATASETS.items():
            store.add_dataset(
                dataset,
                task=task,
                n_samples=100,
                n_features=5,
                n_classes=2 if task == "binary" else 4,
                imbalance_ratio=3.0,
            )
            for model, level in MODELS.items():
                store.add(_row(dataset, model, "paper", 0, 42, level + rng.normal(0, 0.02)))
                for seed in (0, 1):
                    for fold in range(3):
                        store.add(
                            _row(dataset, model, "cv", fold, seed, level + rng.normal(0, 0.05))
                        )
            labels = np.arange(40) % 2
            store.add(
                {
                    **_row(dataset, "qclmix", "paper", 0, 42, 0.8),
                    "embedding": rng.normal(size=(40, 8)) + labels[:, None],
                    "embedding_labels": labels,
                }
            )
        store.add(
            _row("ecoli", "gat", "paper", 0, 42, None, status="skipped")
            | {"error": "ImportError: install the gnn extra"}
        )
        yield store


def test_report_has_tables_tests_and_figures(store, tmp_path):
    out = tmp_path / "report"
    path = build_report(store, out, posthoc="holm")
    text = path.read_text()
    assert "## Protocol `paper`" in text and "## Protocol `cv`" in text
    assert "| ecoli | binary | 0.87 |" in text  # the paper's own value beside ours (SPEC §7)
    assert "± " in text.split("## Protocol `cv`")[1]  # repeats: mean ± std
    assert "xgboost" in text and "Δ (ours − best)" in text
    assert "Iman–Davenport" in text and "global (metric-averaged ranks)" in text
    assert "Holm test of every model against qclmix" in text
    assert "maF1 (paper: harmonic mean of maP, maR)" in text and "maF1 (sklearn)" in text
    assert "install the gnn extra" in text  # jobs without a result are listed
    assert "max_epochs=20" in text  # the settings each number was produced with
    for protocol in ("paper", "cv"):
        for figure in ("fig2_improvement", "fig3_boxplots", "fig5_ablation", "cd_diagram"):
            assert (out / f"{protocol}_{figure}.png").stat().st_size > 1000
    assert (out / "paper_fig4_tsne.png").exists()
    # the ablation variant is not one of the baselines
    summary = text.split("### QCLMix against the best baseline")[1].split("###")[0]
    assert "qclmix_no_mixup" not in summary


def test_runs_with_other_settings_are_not_averaged(store, tmp_path):
    store.add(_row("ecoli", "qclmix", "paper", 0, 42, 0.1234, param_hash="other-settings"))
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    assert "1 other attempt(s)" in text
    ecoli = text.split("#### ecoli")[1].split("####")[0]
    assert "0.123" in ecoli  # the latest run, not a mean of both settings
    assert "## Protocol `cv`" not in text


def test_too_few_datasets_for_the_tests(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        for model, level in MODELS.items():
            store.add(_row("ecoli", model, "paper", 0, 42, level))
        text = build_report(store, tmp_path / "out").read_text()
    assert "Not enough complete results for the tests" in text


def test_bad_options(store, tmp_path):
    with pytest.raises(ValueError, match="posthoc"):
        build_report(store, tmp_path, posthoc="tukey")
    with pytest.raises(ValueError, match="alpha"):
        build_report(store, tmp_path, alpha=2)


def test_paper_configuration_is_ranked_and_summarised_beside_the_defaults(store, tmp_path):
    for dataset in DATASETS:
        store.add(_row(dataset, "qclmix_paper", "paper", 0, 42, 0.70))
    store.add(_row("ecoli", "qclmix_argmax", "paper", 0, 42, 0.5))  # an ablation on one dataset
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    summary = text.split("### QCLMix against the best baseline")[1].split("###")[0]
    assert "our qclmix_paper maF1" in summary and "| 0.700 |" in summary
    assert "| **mean** |" in summary and "wins" in summary and "losses" in summary
    ranks = text.split("Average ranks")[1].split("Friedman test")[0]
    assert "| qclmix_paper |" in ranks and "| qclmix_no_mixup |" not in ranks
    ablation = text.split("### Ablations")[1].split("![")[0]
    assert "**mean** over the 1 datasets with every variant" in ablation


def test_latest_attempt_is_reported_even_when_it_failed(store, tmp_path):
    """A re-run with other settings that fails is listed, not hidden behind the older success."""
    store.add(
        _row("ecoli", "xgboost", "paper", 0, 42, None, param_hash="new", status="failed")
        | {"error": "ValueError: the new settings broke it"}
    )
    store.add(
        _row("glass", "knn", "paper", 0, 42, None, param_hash="new", status="timeout")
        | {"error": "stopped after the per-job time limit of 5 s"}
    )
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    missing = text.split("## Jobs without a result")[1]
    assert "| ecoli | xgboost | paper | 0 | 42 | failed | ValueError: the new settings" in missing
    assert "| glass | knn | paper | 0 | 42 | timeout |" in missing
    ecoli = text.split("#### ecoli")[1].split("####")[0]
    glass = text.split("#### glass")[1].split("####")[0]
    assert "| xgboost |" not in ecoli and "| knn |" not in glass
    assert "| xgboost |" in glass  # the other datasets keep their results


def test_qclmix_is_compared_with_the_best_peer_apart_from_the_baselines(store, tmp_path):
    # xgboost (0.78) is the best baseline; of the peers catboost (0.76) beats lightgbm (0.5)
    for dataset in DATASETS:
        store.add(_row(dataset, "catboost", "paper", 0, 42, 0.76))
        store.add(_row(dataset, "lightgbm", "paper", 0, 42, 0.5))
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    peers = text.split("### QCLMix against the best modern peer")[1].split("###")[0]
    assert "The best of catboost, lightgbm on each dataset." in peers
    assert "| best peer |" in peers and "xgboost" not in peers
    assert peers.count("| catboost | 0.760 |") == len(DATASETS)
    assert "lightgbm |" not in peers.split("on each dataset.")[1]


def test_no_peer_section_when_every_baseline_is_a_peer(tmp_path):
    with ResultStore(tmp_path / "peers.sqlite") as only_peers:
        for dataset in DATASETS:
            only_peers.add(_row(dataset, "qclmix", "paper", 0, 42, 0.8))
            only_peers.add(_row(dataset, "catboost", "paper", 0, 42, 0.76))
        text = build_report(only_peers, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    assert "best modern peer" not in text and "| catboost | 0.760 |" in text


def test_ranks_over_every_dataset_when_a_gappy_model_drops_some(store, tmp_path):
    plain = build_report(store, tmp_path / "plain", protocols=["paper"], tsne=False).read_text()
    assert "On all " not in plain  # no dataset is left out: one rank table is enough
    for dataset in list(DATASETS)[:3]:  # a model missing on abalone drops abalone from the tests
        store.add(_row(dataset, "smote_svm", "paper", 0, 42, 0.9))
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    assert "datasets left out of the tests (a model has no result there): abalone" in text
    every = text.split("On all 4 datasets, the 4 models with a result on every one")[1]
    table = every.split("\n\n")[1]
    assert "smote_svm" not in table and "qclmix_no_mixup" not in table
    assert table.splitlines()[-1].startswith("| knn | 4.00 |")  # 0.60 against 0.70 and more


def test_a_difference_that_rounds_to_zero_has_no_sign():
    from qclmix_sklearn.bench._report import _signed

    assert [_signed(v) for v in (-1e-5, 0.0, 0.0213, -0.0213)] == [
        "0.000", "0.000", "+0.021", "-0.021"]
    assert _signed(np.nan) == "—"


#: 15 calibration bins with rows in the two most confident ones
BINS = {
    "count": [0] * 13 + [10, 30],
    "confidence": [None] * 13 + [0.9, 0.97],
    "accuracy": [None] * 13 + [0.8, 0.9],
}


def _with_probabilities(row, loss):
    return row | {
        "log_loss": loss,
        "brier_score": loss / 2,
        "ece": loss / 10,
        "average_precision_macro": 1 - loss,
        "roc_auc_macro": 1 - loss,
        "calibration_bins": BINS,
    }


def test_threshold_free_metrics_are_ranked_and_missing_in_older_rows(store, tmp_path):
    # xgboost has the lowest log-loss, Brier and ECE and the highest AP and ROC-AUC; knn the
    # opposite; mlp's rows are older (stored without them)
    for dataset in DATASETS:
        for model, loss in {"qclmix": 0.3, "xgboost": 0.2, "knn": 0.5}.items():
            row = _row(dataset, model, "paper", 0, 42, MODELS[model])
            store.add(_with_probabilities(row, loss))
    out = tmp_path / "r"
    text = build_report(store, out, protocols=["paper"], tsne=False).read_text()
    section = text.split("### Threshold-free metrics")[1].split("\n### ")[0]
    assert "models without these metrics (no `predict_proba`, or every job stored" in section
    assert "existed): mlp" in section
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    assert rows[1:4] == [
        "| xgboost | 1.00 | 1.00 | 1.00 | 1.00 | 1.00 |",
        "| qclmix | 2.00 | 2.00 | 2.00 | 2.00 | 2.00 |",
        "| knn | 3.00 | 3.00 | 3.00 | 3.00 | 3.00 |",
    ]
    assert rows[4] == "| datasets (N) | 4 | 4 | 4 | 4 | 4 |"
    ecoli = text.split("#### ecoli")[1].split("####")[0]
    assert "| xgboost | 1 | 0.800 | 0.800 | 0.200 | 0.100 | 0.020 |" in ecoli
    assert "| mlp | 0 | — | — | — | — | — |" in ecoli  # missing, never 0
    assert "Reliability of qclmix against xgboost, knn" in section  # no peer ran: the best two
    assert (out / "paper_fig6_reliability.png").stat().st_size > 1000
    # with a modern peer, QCLMix is drawn against it
    store.add(_with_probabilities(_row("glass", "catboost", "paper", 0, 42, 0.7), 0.4))
    text = build_report(store, out, protocols=["paper"], tsne=False).read_text()
    assert "Reliability of qclmix against catboost (" in text


def test_report_on_a_store_without_the_new_columns(store, tmp_path, monkeypatch):
    # as a store written before the threshold-free metrics reads when it is not migrated
    new = ["average_precision_macro", "roc_auc_macro", "log_loss", "brier_score", "ece",
           "calibration_bins"]
    results = ResultStore.results
    monkeypatch.setattr(
        ResultStore, "results", lambda self, status=None: results(self, status).drop(columns=new)
    )
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    assert "No job of this protocol stored them" in text
    assert "| **qclmix** | 1 |" in text.split("#### ecoli")[1]


def test_a_later_skip_never_hides_a_result(store, tmp_path):
    """A re-run without an optional dependency stores skips under other settings: the stored
    result still counts; a job that never ran is listed as skipped."""
    store.add(
        _row("ecoli", "xgboost", "paper", 0, 42, None, param_hash="unbuilt", status="skipped")
        | {"error": "ImportError: install the extra"}
    )
    text = build_report(store, tmp_path / "r", protocols=["paper"], tsne=False).read_text()
    ecoli = text.split("#### ecoli")[1].split("####")[0]
    assert "| xgboost |" in ecoli
    missing = text.split("## Jobs without a result")[1]
    assert "| ecoli | xgboost |" not in missing
    assert "| ecoli | gat | paper | 0 | 42 | skipped |" in missing  # never ran: shown as a skip


def test_the_report_never_writes_to_the_store(store, tmp_path):
    path = store.path
    store.close()
    before = path.read_bytes()
    build_report(path, tmp_path / "r", protocols=["paper"], tsne=False)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as con:  # the claims table is the run's, never the report's
        con.execute("DROP TABLE claims")
    before = path.read_bytes()
    build_report(path, tmp_path / "r", protocols=["paper"], tsne=False)
    assert path.read_bytes() == before
    with sqlite3.connect(path) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
    assert "claims" not in tables
