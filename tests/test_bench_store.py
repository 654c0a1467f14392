"""The SQLite results store: keys, resume bookkeeping, embeddings."""

import numpy as np
import pytest

from qclmix_sklearn.bench import ResultStore


def _result(**changes):
    result = {
        "dataset": "d",
        "model": "m",
        "protocol": "paper",
        "fold": 0,
        "seed": 42,
        "param_hash": "h",
        "suite": "s",
        "status": "ok",
        "f1_macro": 0.5,
        "params": {"a": 1},
        "versions": {"x": "1"},
    }
    result.update(changes)
    return result


def test_add_and_read_back(tmp_path):
    path = tmp_path / "sub" / "r.sqlite"
    with ResultStore(path) as store:
        store.add(_result())
        store.add(_result(model="other", status="failed", error="ValueError: boom", f1_macro=None))
        assert len(store) == 2
    with ResultStore(path) as store:  # persisted
        frame = store.results()
        assert set(frame["model"]) == {"m", "other"}
        assert frame.set_index("model").loc["m", "f1_macro"] == 0.5
        assert store.results(status="failed")["error"].tolist() == ["ValueError: boom"]


def test_same_key_replaces_and_finished_keys(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.add(_result(status="failed"))
        assert store.finished_keys() == {("d", "m", "paper", 0, 42, "h")}
        assert store.finished_keys(("ok",)) == set()
        store.add(_result(status="ok", f1_macro=0.7))
        assert len(store) == 1
        assert store.finished_keys(("ok",)) == {("d", "m", "paper", 0, 42, "h")}
        assert store.results()["f1_macro"].tolist() == [0.7]


@pytest.mark.parametrize(
    "change, message", [({"status": "weird"}, "status"), ({"dataset": None}, "dataset")]
)
def test_bad_results_are_rejected(tmp_path, change, message):
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ValueError, match=message):
            store.add(_result(**change))
        assert len(store) == 0


def test_embeddings_and_datasets(tmp_path):
    embedding = np.arange(12, dtype=np.float32).reshape(4, 3)
    with ResultStore(tmp_path / "r.sqlite") as store:
        store.add(
            _result(
                model="qclmix",
                embedding=embedding,
                embedding_labels=np.array(["a", "b", "a", "b"], dtype=object),
            )
        )
        store.add_dataset(
            "d",
            task="binary",
            n_samples=4,
            n_features=3,
            n_classes=2,
            imbalance_ratio=1.0,
            classes=["a", "b"],
        )
        (record,) = store.embeddings(model="qclmix")
        np.testing.assert_array_equal(record["embedding"], embedding)
        assert record["labels"].tolist() == ["a", "b", "a", "b"]
        assert store.datasets().loc["d", "task"] == "binary"


def test_older_store_gets_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as con:
        con.execute(
            "CREATE TABLE results (dataset TEXT, model TEXT, protocol TEXT, fold INTEGER, seed "
            "INTEGER, "
            "param_hash TEXT, status TEXT, PRIMARY KEY (dataset, model, protocol, fold, seed, "
            "param_hash))"
        )
        con.execute("INSERT INTO results VALUES ('d', 'm', 'paper', 0, 42, 'h', 'ok')")
    with ResultStore(path) as store:
        store.add(_result(model="new", warnings=["UserWarning: x"]))
        frame = store.results().set_index("model")
    assert frame.loc["new", "warnings"] == '["UserWarning: x"]' and frame.loc["m", "status"] == "ok"
