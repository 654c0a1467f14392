"""benchmarks/relabel_rows.py: rows stored under another model name that trains the same."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from qclmix_sklearn.bench import ResultStore, get_suite
from qclmix_sklearn.bench._models import make_model
from qclmix_sklearn.bench._runner import _configure, param_hash, protocol_options_of

spec = importlib.util.spec_from_file_location(
    "relabel_rows", Path(__file__).parents[1] / "benchmarks" / "relabel_rows.py")
relabel_rows = importlib.util.module_from_spec(spec)
spec.loader.exec_module(relabel_rows)

SUITE = get_suite("dev")


def config(model):
    return _configure(SUITE, model, 0, protocol_options_of(SUITE, "cv"), make_model)[2]


def store_with(path, model, trains_as, f1=0.5):
    """A store holding one job of ``model`` whose configuration is ``trains_as``'s, embedded."""
    stored = config(trains_as)
    with ResultStore(path) as store:
        store.add({"dataset": "haberman", "model": model, "protocol": "cv", "fold": 0,
                   "seed": 0, "param_hash": param_hash(stored), "suite": "dev", "status": "ok",
                   "f1_macro": f1, "params": stored,
                   "embedding": np.ones((2, 3), dtype=np.float32),
                   "embedding_labels": np.array([0, 1])})
    return path


def test_rows_move_to_the_name_whose_configuration_trains_them(tmp_path):
    # the former defaults' rows, stored as qclmix before the default changed
    db = store_with(tmp_path / "s.sqlite", "qclmix", trains_as="qclmix_no_portfolio")
    assert relabel_rows.relabel(db, SUITE, "qclmix", "qclmix_no_portfolio") == 1
    with ResultStore(db, read_only=True) as store:
        (row,) = store.results().itertuples()
        assert row.model == "qclmix_no_portfolio" and row.f1_macro == 0.5
        assert row.param_hash == param_hash(config("qclmix_no_portfolio"))
        assert [e["model"] for e in store.embeddings()] == ["qclmix_no_portfolio"]


def test_a_named_portfolio_is_its_entries_spelled_out(tmp_path):
    # the variant's rows ([{}, {'feature_selection': 'shadow'}]) are today's default's
    db = tmp_path / "s.sqlite"
    stored = config("qclmix")
    stored["estimator"]["portfolio"] = [{}, {"feature_selection": "shadow"}]
    with ResultStore(db) as store:
        store.add({"dataset": "haberman", "model": "qclmix_selection_portfolio",
                   "protocol": "cv", "fold": 0, "seed": 0, "param_hash": param_hash(stored),
                   "status": "ok", "params": stored})
    assert relabel_rows.relabel(db, SUITE, "qclmix_selection_portfolio", "qclmix") == 1


def test_rows_of_another_estimator_are_refused_and_left_alone(tmp_path):
    db = store_with(tmp_path / "s.sqlite", "qclmix_old", trains_as="qclmix_no_portfolio")
    with pytest.raises(ValueError, match="train different estimators"):
        relabel_rows.relabel(db, SUITE, "qclmix_old", "qclmix")  # the portfolio trains more
    with ResultStore(db, read_only=True) as store:
        assert store.results()["model"].tolist() == ["qclmix_old"]


def test_a_copy_from_another_store_leaves_it_alone(tmp_path):
    source = store_with(tmp_path / "source.sqlite", "qclmix", trains_as="qclmix_no_portfolio")
    db = tmp_path / "target.sqlite"
    ResultStore(db).close()
    assert relabel_rows.relabel(db, SUITE, "qclmix", "qclmix_no_portfolio", source=source,
                                datasets={"haberman"}) == 1
    with ResultStore(source, read_only=True) as store:
        assert store.results()["model"].tolist() == ["qclmix"]
    with ResultStore(db, read_only=True) as store:
        assert store.results()["model"].tolist() == ["qclmix_no_portfolio"]
        assert len(store.embeddings()) == 1
    # a second copy would store a row twice under one key
    with pytest.raises(ValueError, match="already stored"):
        relabel_rows.relabel(db, SUITE, "qclmix", "qclmix_no_portfolio", source=source,
                             datasets={"haberman"})
