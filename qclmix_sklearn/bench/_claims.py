"""Job claims: runs that share a results store on one machine split its jobs.

Before computing a job, a run claims it in the store's ``claims`` table, in one write transaction
that first checks that no result is stored for it and that no other live run holds it. A run
refreshes the heartbeat of its claims while it runs and deletes them when it stops. The claim of a
run that died (kill -9, a lost machine) is taken over: at once on the same host when its process
is gone, after ``LEASE_SECONDS`` without a heartbeat when it ran on another host (a store is never
shared across machines: the runner refuses one on a network filesystem, whose locking SQLite cannot
rely on).
"""

import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field

#: A job's key: one stored result (or claim) per key.
KEY_COLUMNS = ("dataset", "model", "protocol", "fold", "seed", "param_hash")

#: A claim whose heartbeat is older than this (seconds) belongs to a dead run.
LEASE_SECONDS = 300.0
HEARTBEAT_SECONDS = 30.0

CLAIMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    protocol TEXT NOT NULL,
    fold INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    param_hash TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    heartbeat REAL NOT NULL,
    PRIMARY KEY (dataset, model, protocol, fold, seed, param_hash)
);
"""

#: The WHERE condition that selects one job's row by its key (parameters: the key).
IS_KEY = " AND ".join(f"{column} = ?" for column in KEY_COLUMNS)


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: one run (its own id, so that two runs of one process differ)."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)


def process_alive(pid):
    """Whether process ``pid`` of this host runs (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _live(host, pid, heartbeat, now, lease):
    if now - heartbeat > lease:
        return False
    return process_alive(pid) if host == socket.gethostname() else True


class Claims:
    """The claims of the store at ``path``, on a connection of their own, usable from any thread.

    Parameters
    ----------
    path : path-like
        The results store (its ``claims`` table exists).
    lease : float, default=LEASE_SECONDS
        Seconds without a heartbeat after which a claim from another host is taken over.
    """

    def __init__(self, path, lease=LEASE_SECONDS):
        self.path = path
        self.lease = lease
        self._con = None
        self._lock = threading.Lock()

    def _transaction(self, work):
        with self._lock:
            if self._con is None:
                self._con = sqlite3.connect(
                    str(self.path), timeout=60, isolation_level=None, check_same_thread=False
                )
            # IMMEDIATE: take the write lock before reading, so that the check and the claim are
            # one atomic step for every run on the store
            self._con.execute("BEGIN IMMEDIATE")
            try:
                out = work(self._con)
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")
            return out

    def claim(self, key, owner, *, done_statuses, seen=None):
        """Claim the job ``key`` for ``owner``.

        Returns ``"claimed"``; ``"done"`` when its stored result has a status in
        ``done_statuses`` or is another than ``seen``, the ``(rowid, finished_at)`` of the row
        that ``owner`` saw when it started (None: no row), i.e. another run stored it meanwhile;
        ``"busy"`` when another live run holds it.
        """

        def work(con):
            row = con.execute(
                f"SELECT status, rowid, finished_at FROM results WHERE {IS_KEY}", key
            ).fetchone()
            if row is not None and (row[0] in done_statuses or tuple(row[1:]) != seen):
                return "done"
            row = con.execute(
                f"SELECT owner, host, pid, heartbeat FROM claims WHERE {IS_KEY}", key
            ).fetchone()
            now = time.time()
            if row is not None and row[0] != owner.id and _live(*row[1:], now, self.lease):
                return "busy"
            con.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, owner.id, owner.host, owner.pid, now),
            )
            return "claimed"

        return self._transaction(work)

    def refresh(self, owner):
        """Renew the heartbeat of ``owner``'s claims."""
        self._transaction(
            lambda con: con.execute(
                "UPDATE claims SET heartbeat = ? WHERE owner = ?", (time.time(), owner.id)
            )
        )

    def release(self, owner):
        """Drop ``owner``'s remaining claims (jobs it did not finish)."""
        self._transaction(
            lambda con: con.execute("DELETE FROM claims WHERE owner = ?", (owner.id,))
        )

    def held(self):
        """The claims as ``(key, owner id, host, pid, heartbeat)`` tuples."""
        with self._lock, sqlite3.connect(str(self.path), timeout=60) as con:
            rows = con.execute(f"SELECT {', '.join(KEY_COLUMNS)}, owner, host, pid, heartbeat "
                               "FROM claims").fetchall()  # fmt: skip
        return [(tuple(row[:6]), *row[6:]) for row in rows]

    def close(self):
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None


class Heartbeat:
    """While in its ``with`` block, renew ``owner``'s claims every ``every`` seconds; on exit,
    release the claims that are left (the jobs ``owner`` did not finish)."""

    def __init__(self, claims, owner, every=HEARTBEAT_SECONDS):
        self.claims, self.owner, self.every = claims, owner, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="claims-heartbeat", daemon=True)

    def _beat(self):
        while not self._stop.wait(self.every):
            try:
                self.claims.refresh(self.owner)
            except sqlite3.Error:  # e.g. the store is locked a long while: try again next time
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.claims.release(self.owner)
