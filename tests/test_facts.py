"""benchmarks/beyond/facts.py: the README's prose figures, from a hand-made store."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils import Bunch

from qclmix_sklearn.bench import ResultStore

_PATH = Path(__file__).parents[1] / "benchmarks" / "beyond" / "facts.py"
_spec = importlib.util.spec_from_file_location("facts", _PATH)
facts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(facts)


def _row(dataset, model, protocol, fold, f1, fit_time=1.0, param_hash="h"):
    return {"dataset": dataset, "model": model, "protocol": protocol, "fold": fold, "seed": 0,
            "param_hash": param_hash, "status": "ok", "f1_macro": f1, "fit_time": fit_time}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "r.sqlite"
    with ResultStore(path) as store:
        for fold in range(2):
            store.add(_row("a", "qclmix", "cv", fold, 0.8, fit_time=30.0))
            store.add(_row("a", "qclmix_paper", "cv", fold, 0.7, fit_time=10.0))
            store.add(_row("a", "xgboost", "cv", fold, 0.7, fit_time=2.0))
            store.add(_row("a", "knn", "cv", fold, 0.6, fit_time=0.5))
        # qclmix_paper against the best baseline: a tie (+0.004), a loss and a win
        for dataset, ours, best in [("a", 0.804, 0.80), ("b", 0.70, 0.75), ("c", 0.90, 0.85)]:
            store.add(_row(dataset, "qclmix_paper", "paper", 0, ours))
            store.add(_row(dataset, "xgboost", "paper", 0, best))
            store.add(_row(dataset, "knn", "paper", 0, best - 0.1))
            store.add(_row(dataset, "qclmix", "paper", 0, 0.99))  # not a baseline
    return path


def test_fit_times_sum_the_folds_per_model(db):
    line = facts.fit_times(db)
    assert "qclmix 60 s, qclmix_paper 20 s (3.0 times)" in line
    assert "the 2 baselines' grid searches 5 s" in line and "over the 2 cv" in line


def test_paper_configuration_record_counts_ties_within_the_reports_rule(db):
    line = facts.paper_config_record(db)
    assert "1 wins, 1 ties (a; Δ within ±0.005), 1 losses" in line
    assert "mean Δ +0.001" in line


def test_duplicated_rows_share(monkeypatch):
    data = np.array([[1, 2], [1, 2], [3, 4], [5, 6]])
    monkeypatch.setattr(facts, "load_benchmark", lambda name, data_home: Bunch(data=data))
    assert facts.duplicates(None, names=("x",)).endswith("x 50.0%")
