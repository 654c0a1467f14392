"""SQLite results store: one row per (dataset, model, protocol, fold, seed, param hash).

Only the main process of a run writes; every finished job is committed at once so that an
interrupted run loses nothing and a re-run skips what is already stored. Runs sharing a store claim
each job before computing it (the ``claims`` table, ``_claims.py``), so they split the work.
"""

import contextlib
import io
import json
import os
import sqlite3
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from ._claims import CLAIMS_SCHEMA, IS_KEY, KEY_COLUMNS, Claims
from ._probability_metrics import BINS_COLUMN, PROBABILITY_METRICS

DEFAULT_DB = "qclmix-results.sqlite"

#: Statuses a job can end with. ``skipped`` means the model could not be built here (e.g. a missing
#: optional dependency); ``timeout`` means the per-job time limit stopped it.
STATUSES = ("ok", "failed", "timeout", "skipped")

METRIC_COLUMNS = (
    "accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "f1_paper",
    # from predict_proba: NULL for a model without it, and in rows stored before they existed
    *PROBABILITY_METRICS,
)

_PROBABILITY_SCHEMA = "\n    ".join(f"{column} REAL," for column in PROBABILITY_METRICS)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS results (
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    protocol TEXT NOT NULL,
    fold INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    param_hash TEXT NOT NULL,
    suite TEXT,
    status TEXT NOT NULL,
    error TEXT,
    accuracy REAL,
    precision_macro REAL,
    recall_macro REAL,
    f1_macro REAL,
    f1_paper REAL,
    {_PROBABILITY_SCHEMA}
    {BINS_COLUMN} TEXT,
    fit_time REAL,
    predict_time REAL,
    n_train INTEGER,
    n_test INTEGER,
    params TEXT,
    best_params TEXT,
    inner_cv_splits INTEGER,
    versions TEXT,
    warnings TEXT,
    finished_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (dataset, model, protocol, fold, seed, param_hash)
);
CREATE TABLE IF NOT EXISTS datasets (
    name TEXT PRIMARY KEY,
    task TEXT,
    n_samples INTEGER,
    n_features INTEGER,
    n_classes INTEGER,
    imbalance_ratio REAL,
    classes TEXT
);
CREATE TABLE IF NOT EXISTS embeddings (
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    protocol TEXT NOT NULL,
    fold INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    param_hash TEXT NOT NULL,
    embedding BLOB NOT NULL,
    labels BLOB NOT NULL,
    PRIMARY KEY (dataset, model, protocol, fold, seed, param_hash)
);
"""

_RESULT_COLUMNS = (
    *KEY_COLUMNS,
    "suite",
    "status",
    "error",
    *METRIC_COLUMNS,
    BINS_COLUMN,
    "fit_time",
    "predict_time",
    "n_train",
    "n_test",
    "params",
    "best_params",
    "inner_cv_splits",
    "versions",
    "warnings",
)


def _to_blob(array):
    buffer = io.BytesIO()
    # allow_pickle=False: labels of object dtype are stored as strings instead.
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _from_blob(blob):
    return np.load(io.BytesIO(blob), allow_pickle=False)


class InvalidStoreError(ValueError):
    """The file given as results store is not one (empty, corrupted, or another database)."""


def _create(path):
    """Create a store at ``path`` atomically: never an empty file that another run could see."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        with contextlib.closing(sqlite3.connect(str(partial))) as con:
            con.executescript(_SCHEMA + CLAIMS_SCHEMA)
        try:
            os.link(partial, path)  # atomic, and never replaces a store another run just created
        except OSError:  # that one exists (use it), or no hard links here (SQLite creates it)
            pass
    finally:
        partial.unlink(missing_ok=True)


def _check(con, path):
    """Refuse an SQLite database that is not a results store (it would get our tables added)."""
    tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if tables and "results" not in tables:
        raise InvalidStoreError(
            f"{path} is an SQLite database without a results table (tables: "
            f"{', '.join(sorted(tables))}): not a qclmix results store; choose another file"
        )


class ResultStore:
    """Results of benchmark jobs in an embedded SQLite database.

    Parameters
    ----------
    path : str or path-like, default="qclmix-results.sqlite"
        Database file; created (with its parent folder) when missing. An existing file that is
        empty (0 bytes), corrupted or another database raises :class:`InvalidStoreError`: a store
        is never created empty, so an empty file is not one (and is left untouched).
    read_only : bool, default=False
        Open an existing store for reading only (a report, a dry run): its file is never written,
        no table or column is added, and it has no ``claims``. A missing file raises
        ``FileNotFoundError``.
    """

    def __init__(self, path=DEFAULT_DB, *, read_only=False):
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._open_read_only()
            return
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            try:
                _create(self.path)
            except sqlite3.Error as exc:
                raise InvalidStoreError(
                    f"cannot create the results store {self.path}: {exc}"
                ) from None
        elif self.path.is_file() and self.path.stat().st_size == 0:
            raise InvalidStoreError(
                f"{self.path} is an empty file, not a results store (a new store is never "
                "empty): delete it, or choose another file"
            )
        try:
            # timeout: wait for a lock instead of failing when a report reads while a run writes.
            self._con = sqlite3.connect(str(self.path), timeout=60)
        except sqlite3.Error as exc:
            raise InvalidStoreError(f"cannot open the results store {self.path}: {exc}") from None
        try:
            _check(self._con, self.path)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.executescript(_SCHEMA + CLAIMS_SCHEMA)
            # A store written by an older version lacks the newer columns: add them (as NULL).
            present = {row[1] for row in self._con.execute("PRAGMA table_info(results)")}
            for column in _RESULT_COLUMNS:
                if column not in present:
                    self._con.execute(f"ALTER TABLE results ADD COLUMN {column}")
            self._con.commit()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise InvalidStoreError(
                f"{self.path} is not a usable results store ({exc}): it is corrupted or not an "
                "SQLite database; move it away, or choose another file"
            ) from None
        except BaseException:
            self._con.close()
            raise
        self.claims = Claims(self.path)

    def _open_read_only(self):
        if not self.path.is_file():
            raise FileNotFoundError(f"no results store at {self.path}")
        if self.path.stat().st_size == 0:
            raise InvalidStoreError(f"{self.path} is an empty file, not a results store")
        self.claims = None
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        self._con = sqlite3.connect(uri, uri=True, timeout=60)
        try:
            _check(self._con, self.path)
            if not self._con.execute("SELECT 1 FROM sqlite_master WHERE name='results'").fetchone():
                raise InvalidStoreError(f"{self.path} has no results table: not a results store")
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise InvalidStoreError(
                f"{self.path} is not a usable results store ({exc}): it is corrupted or not an "
                "SQLite database"
            ) from None
        except BaseException:
            self._con.close()
            raise

    def close(self):
        if self.claims is not None:
            self.claims.close()
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def finished_keys(self, statuses=STATUSES):
        """Keys (dataset, model, protocol, fold, seed, param_hash) with a status in ``statuses``."""
        statuses = tuple(statuses)
        if not statuses:
            return set()
        marks = ",".join("?" * len(statuses))
        rows = self._con.execute(
            f"SELECT {', '.join(KEY_COLUMNS)} FROM results WHERE status IN ({marks})", statuses
        )
        return {tuple(row) for row in rows}

    def versions(self):
        """``{key: (status, rowid, finished_at)}`` of every stored result (to notice, later, that
        another run has replaced one)."""
        rows = self._con.execute(
            f"SELECT {', '.join(KEY_COLUMNS)}, status, rowid, finished_at FROM results"
        )
        return {tuple(row[:6]): tuple(row[6:]) for row in rows}

    def add(self, result):
        """Store one job result (a dict), committed at once; replaces a row with the same key."""
        missing = [c for c in KEY_COLUMNS + ("status",) if result.get(c) is None]
        if missing:
            raise ValueError(f"result is missing required field(s) {missing}")
        if result["status"] not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {result['status']!r}")
        row = {}
        for column in _RESULT_COLUMNS:
            value = result.get(column)
            if isinstance(value, (dict, list)):
                value = json.dumps(value, sort_keys=True, default=str)
            elif isinstance(value, np.generic):
                value = value.item()
            row[column] = value
        marks = ",".join("?" * len(row))
        with self._con:  # one transaction per job: committed when the block exits
            self._con.execute(
                f"INSERT OR REPLACE INTO results ({', '.join(row)}) VALUES ({marks})",
                tuple(row.values()),
            )
            # the job has its result: no run needs to hold it any longer
            self._con.execute(
                f"DELETE FROM claims WHERE {IS_KEY}",
                tuple(row[c] for c in KEY_COLUMNS),
            )
            embedding = result.get("embedding")
            if embedding is not None:
                labels = np.asarray(result["embedding_labels"])
                if labels.dtype == object:
                    labels = labels.astype(str)
                self._con.execute(
                    "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    tuple(result[c] for c in KEY_COLUMNS)
                    + (_to_blob(np.asarray(embedding, dtype=np.float32)), _to_blob(labels)),
                )
        # Into the store file itself, not only its write-ahead log: a copy of the file taken
        # while a run goes on (a commit of a filling store) then holds every finished job,
        # and so does the file a killed run leaves.
        self._con.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def add_dataset(
        self,
        name,
        *,
        task=None,
        n_samples=None,
        n_features=None,
        n_classes=None,
        imbalance_ratio=None,
        classes=None,
    ):
        """Describe a dataset (its task decides the binary/multi-class split of the figures)."""
        with self._con:
            self._con.execute(
                "INSERT OR REPLACE INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    task,
                    n_samples,
                    n_features,
                    n_classes,
                    imbalance_ratio,
                    json.dumps([str(c) for c in classes]) if classes is not None else None,
                ),
            )

    def datasets(self):
        """Stored dataset descriptions as a DataFrame indexed by name."""
        return pd.read_sql_query("SELECT * FROM datasets ORDER BY name", self._con).set_index(
            "name"
        )

    def results(self, status=None):
        """All stored rows as a DataFrame (optionally only those with ``status``)."""
        # rowid: insertion order (a re-run job gets a new one), breaks ties of same-second finishes
        query = "SELECT rowid AS row_id, * FROM results"
        params = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status,)
        rows = pd.read_sql_query(
            query + " ORDER BY dataset, model, protocol, seed, fold", self._con, params=params
        )
        for column in _RESULT_COLUMNS + ("finished_at",):  # a read-only older store lacks some
            if column not in rows:
                rows[column] = None
        return rows

    def embeddings(self, model=None):
        """Stored test-set embeddings: dicts with the key columns, ``embedding`` and ``labels``."""
        query = f"SELECT {', '.join(KEY_COLUMNS)}, embedding, labels FROM embeddings"
        params = ()
        if model is not None:
            query += " WHERE model = ?"
            params = (model,)
        out = []
        for row in self._con.execute(query + " ORDER BY dataset, protocol, seed, fold", params):
            record = dict(zip(KEY_COLUMNS, row[:6]))
            record["embedding"] = _from_blob(row[6])
            record["labels"] = _from_blob(row[7])
            out.append(record)
        return out

    def __len__(self):
        return self._con.execute("SELECT COUNT(*) FROM results").fetchone()[0]


def read_successes(db, protocol, finished=True):
    """The latest successful row of every job of ``protocol`` in the store ``db``, read-only.

    ``finished=True`` opens the file as immutable (no lock, no -wal / -shm files left beside a
    finished store); pass False for a store that a run is still writing.
    """
    uri = f"{Path(db).resolve().as_uri()}?mode=ro" + ("&immutable=1" if finished else "")
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
        rows = pd.read_sql_query(
            "SELECT rowid AS row_id, * FROM results WHERE status = 'ok' AND protocol = ?",
            connection, params=(protocol,),
        )
    rows = rows.sort_values(["finished_at", "row_id"])
    return rows.drop_duplicates(["dataset", "model", "protocol", "fold", "seed"], keep="last")
