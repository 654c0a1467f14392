"""The SQLite results store: keys, resume bookkeeping, embeddings, claims, bad files."""

import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from qclmix_sklearn.bench import InvalidStoreError, ResultStore
from qclmix_sklearn.bench._claims import LEASE_SECONDS, Owner
from qclmix_sklearn.bench._store import STATUSES


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


def test_a_copy_of_the_store_file_taken_during_a_run_holds_every_finished_job(tmp_path):
    # What `git add` of a filling store copies: the file alone, without its write-ahead log.
    path, copy = tmp_path / "r.sqlite", tmp_path / "copy.sqlite"
    with ResultStore(path) as store:
        for fold in range(3):
            store.add(_result(fold=fold))
        copy.write_bytes(path.read_bytes())  # the run still holds the store open
        with sqlite3.connect(copy) as con:
            assert con.execute("SELECT count(*) FROM results").fetchone() == (3,)


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
    # the threshold-free metrics: added, and missing (never 0) in the older row
    assert frame.loc[["m"], ["log_loss", "ece", "calibration_bins"]].isna().all(axis=None)


def test_corrupted_store_is_refused_with_its_name(tmp_path):
    path = tmp_path / "broken.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(InvalidStoreError, match="broken.sqlite.*corrupted"):
        ResultStore(path)


def test_empty_file_is_not_taken_for_a_new_store(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(InvalidStoreError, match="empty.sqlite is an empty file"):
        ResultStore(path)
    assert path.stat().st_size == 0  # left as it was
    with ResultStore(tmp_path / "new.sqlite"):  # a store we create is never empty
        assert (tmp_path / "new.sqlite").stat().st_size > 0


def test_another_database_is_refused(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE accounts (name TEXT)")
    with pytest.raises(InvalidStoreError, match="without a results table.*accounts"):
        ResultStore(path)
    with sqlite3.connect(path) as con:  # none of our tables added
        assert con.execute("SELECT name FROM sqlite_master").fetchall() == [("accounts",)]


KEY = ("d", "m", "paper", 0, 42, "h")


def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # reaped: the pid is free
    return process.pid


def test_claims_one_owner_at_a_time(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        first, second = Owner(), Owner()
        claim = lambda owner: store.claims.claim(KEY, owner, done_statuses=STATUSES)  # noqa: E731
        assert claim(first) == "claimed"
        assert claim(first) == "claimed"  # its own claim
        assert claim(second) == "busy"  # a live run on this host holds it
        store.add(_result())
        assert store.claims.held() == []  # a stored result ends the claim
        assert claim(second) == "done"
        # under --retry-failed, a failure stored since the run saw the store is done too
        store.add(_result(status="failed"))
        status, *seen = store.versions()[KEY]
        assert store.claims.claim(KEY, second, done_statuses=("ok",), seen=tuple(seen)) == (
            "claimed"
        )
        assert store.claims.claim(KEY, first, done_statuses=("ok",), seen=None) == "done"
        store.claims.release(second)
        assert store.claims.held() == []


def test_claims_of_dead_runs_are_taken_over(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        me = Owner()
        for owner, heartbeat_age, expected in [
            (Owner(pid=_dead_pid()), 0, "claimed"),  # this host, process gone: at once
            (Owner(host="elsewhere", pid=1), 0, "busy"),  # another host, fresh heartbeat
            (Owner(host="elsewhere", pid=1), 2 * LEASE_SECONDS, "claimed"),  # lease over
        ]:
            store.claims.release(me)
            assert store.claims.claim(KEY, owner, done_statuses=STATUSES) == "claimed"
            with sqlite3.connect(store.path) as con:
                con.execute("UPDATE claims SET heartbeat = heartbeat - ?", (heartbeat_age,))
            assert store.claims.claim(KEY, me, done_statuses=STATUSES) == expected
            store.claims.release(owner)
