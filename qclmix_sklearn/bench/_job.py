"""One benchmark job: fit a model on a training part, score it on the test part.

A job runs in a worker (a local process, a Dask or a Ray worker) and *returns* its result; only the
main process writes to the results store. With a time limit, the job runs in a child process of the
worker that is terminated when the limit passes, so a runaway model cannot stall the run. A local
worker process dies with the run that started it (:func:`die_with_run`): kill -9 of a run leaves
nothing computing.
"""

import contextlib
import multiprocessing
import os
import pickle
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from importlib import metadata

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, precision_score, recall_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from ._claims import process_alive
from ._missing_extra import is_missing_extra
from ._probability_metrics import score_probabilities
from ._suite_file import SuiteModules

_VERSION_PACKAGES = (
    "qclmix-sklearn",
    "scikit-learn",
    "numpy",
    "scipy",
    "torch",
    "skorch",
    "imbalanced-learn",
    "xgboost",
    "torch-geometric",
    "pytorch-metric-learning",
)


@dataclass
class Job:
    """Everything a worker needs to run one job (the estimator: unfitted, configured)."""

    dataset: str
    model: str
    protocol: str
    fold: int
    seed: int
    param_hash: str
    suite: str
    estimator: object
    X: np.ndarray
    y: np.ndarray
    train: np.ndarray
    test: np.ndarray
    param_grid: dict = None
    params: dict = field(default_factory=dict)
    inner_cv: int = 3
    store_embedding: bool = False
    n_threads: int = None
    #: (host, pid) of the run's main process: a worker on that host stops when it is gone
    owner: tuple = None
    #: suite files (module name -> path) that a worker imports before it unpickles the job
    suite_modules: dict = None

    def __reduce__(self):
        # The suite's file first: unpickling imports it before the estimator, whose class it may
        # define.
        return _rebuild_job, (SuiteModules(self.suite_modules or {}), self.__dict__)

    @property
    def key(self):
        return (self.dataset, self.model, self.protocol, self.fold, self.seed, self.param_hash)

    def base_result(self):
        return {
            "dataset": self.dataset,
            "model": self.model,
            "protocol": self.protocol,
            "fold": self.fold,
            "seed": self.seed,
            "param_hash": self.param_hash,
            "suite": self.suite,
            "params": self.params,
            "n_train": int(len(self.train)),
            "n_test": int(len(self.test)),
        }


def _rebuild_job(_suite_modules, state):
    job = Job.__new__(Job)
    job.__dict__.update(state)
    return job


def library_versions():
    versions = {"python": platform.python_version()}
    for name in _VERSION_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def scores(y_true, y_pred):
    """Accuracy, macro precision/recall, sklearn's macro-F1 and the paper's macro-F1.

    ``f1_macro`` is sklearn's ``f1_score(average='macro')`` (mean of per-class F1);
    ``f1_paper`` is the paper's definition, the harmonic mean of macro precision and macro recall.
    """
    precision = precision_score(y_true, y_pred, average="macro", zero_division=0)
    recall = recall_score(y_true, y_pred, average="macro", zero_division=0)
    denominator = precision + recall
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
        "f1_macro": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "f1_paper": float(2 * precision * recall / denominator) if denominator > 0 else 0.0,
    }


def inner_cv_splits(y_train, wanted=3):
    """Folds of the inner grid search: ``wanted``, fewer for a smaller smallest class (min 2)."""
    smallest = np.unique(y_train, return_counts=True)[1].min()
    return int(max(2, min(wanted, smallest)))


@contextlib.contextmanager
def _limited_threads(n_threads):
    """Limit BLAS/OpenMP and torch threads for one job, then restore the caller's settings."""
    if not n_threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    torch = sys.modules.get("torch")  # only when already imported: never import torch for nothing
    before = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(n_threads):
        if torch is not None:
            torch.set_num_threads(n_threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def execute(job):
    """Run ``job`` here; return its result dict (status ``ok``, ``failed`` or ``skipped``).

    Warnings are stored with the result (the first distinct ones) instead of flooding the console.
    """
    result = job.base_result()
    result["versions"] = library_versions()
    # The warnings module's state is global: capture only where no other job runs in parallel
    # threads (e.g. a threaded Dask worker); there the warnings are shown as usual.
    capture = threading.current_thread() is threading.main_thread()
    with warnings.catch_warnings(record=True) if capture else contextlib.nullcontext([]) as caught:
        if capture:
            warnings.simplefilter("always")
        with _limited_threads(job.n_threads):
            _execute(job, result)
    messages = list(dict.fromkeys(f"{w.category.__name__}: {w.message}"[:300] for w in caught))
    if messages:
        result["warnings"] = messages[:5] + (
            [f"... and {len(messages) - 5} more"] if len(messages) > 5 else []
        )
    return result


def _execute(job, result):
    try:
        X_train, y_train = job.X[job.train], job.y[job.train]
        X_test, y_test = job.X[job.test], job.y[job.test]
        estimator = clone(job.estimator)
        if job.param_grid:
            n_splits = inner_cv_splits(y_train, job.inner_cv)
            result["inner_cv_splits"] = n_splits
            # Tuned on the training part only; the test part is never seen before scoring.
            estimator = GridSearchCV(
                estimator,
                job.param_grid,
                scoring="f1_macro",
                cv=StratifiedKFold(n_splits, shuffle=True, random_state=job.seed),
                n_jobs=1,
                error_score=np.nan,
            )
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        result["fit_time"] = time.perf_counter() - start
        start = time.perf_counter()
        y_pred = estimator.predict(X_test)
        result["predict_time"] = time.perf_counter() - start
        result.update(scores(y_test, y_pred))
        # threshold-free metrics from predict_proba (none for a model without it), after the
        # predict timing so that they never count in it
        result.update(score_probabilities(estimator, X_test, y_test))
        if job.param_grid:
            result["best_params"] = estimator.best_params_
            estimator = estimator.best_estimator_
        if job.store_embedding and hasattr(estimator, "transform"):
            result["embedding"] = np.asarray(estimator.transform(X_test), dtype=np.float32)
            result["embedding_labels"] = y_test
        result["status"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a failing model must not stop the run
        if is_missing_extra(exc):
            # A missing optional dependency (e.g. torch-geometric for the GNN baselines) is not a
            # bug; any other error, an ImportError included, is a failure with its traceback.
            result.update(status="skipped", error=f"{type(exc).__name__}: {exc}")
            return
        result.update(
            status="failed", error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        )


def _timeout_result(job, timeout, elapsed):
    result = job.base_result()
    result.update(
        status="timeout",
        error=f"stopped after the per-job time limit of {timeout:g} s",
        fit_time=elapsed,
        versions=library_versions(),
    )
    return result


def run_job_in_interpreter(job, timeout):
    """Run ``job`` in a new interpreter (``python -m qclmix_sklearn.bench._pickled_job IN OUT``)."""
    with tempfile.TemporaryDirectory(prefix="qclmix-job-") as folder:
        source, target = os.path.join(folder, "job.pkl"), os.path.join(folder, "result.pkl")
        with open(source, "wb") as file:
            pickle.dump(job, file)
        command = [sys.executable, "-m", f"{__package__}._pickled_job", source, target]
        start = time.perf_counter()
        with open(os.path.join(folder, "stderr.txt"), "w+") as stderr:
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
            try:
                finished = _wait(job, start, timeout, lambda seconds: _exited(process, seconds))
            finally:
                if process.poll() is None:
                    process.kill()
                process.wait()
            if not finished:
                return _timeout_result(job, timeout, time.perf_counter() - start)
            if process.returncode == 0 and os.path.exists(target):
                with open(target, "rb") as file:
                    return pickle.load(file)
            stderr.seek(0)
            message = stderr.read().strip()[-2000:]
        result = job.base_result()
        result.update(
            status="failed",
            versions=library_versions(),
            error=f"the job's interpreter exited with code {process.returncode}: {message}",
        )
        return result


def _exited(process, seconds):
    try:
        process.wait(seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def _wait(job, start, timeout, ready):
    """Wait until ``ready(seconds)`` is true or ``timeout`` passes; False on timeout.

    In a local worker, exit at once when the run's main process is gone (killed), so that no
    orphaned job goes on computing.
    """
    watch_owner = _is_local_owner(job.owner)
    while True:
        if watch_owner and not process_alive(job.owner[1]):
            raise SystemExit("the run's main process is gone")
        remaining = timeout - (time.perf_counter() - start)
        if remaining <= 0:
            return False
        if ready(min(1.0, remaining)):
            return True


def _is_local_owner(owner):
    return owner is not None and owner[0] == socket.gethostname() and owner[1] != os.getpid()


_watched_run = []  # the run this worker process dies with, once watched


def die_with_run(owner, poll_seconds=0.5):
    """In a worker process started by the run ``owner`` (host, pid), exit when that run is gone.

    A loky worker would otherwise finish its job (hours, for some models) after kill -9 of the
    run. Only a worker whose parent is the run dies with it: a Dask or Ray worker serves others.
    """
    if _watched_run or not _is_local_owner(owner) or os.getppid() != owner[1]:
        return
    _watched_run.append(owner)
    exit_with_parent(poll_seconds)


def exit_with_parent(poll_seconds=1.0, starter=None):
    """Exit this process when its parent dies (a killed run must not leave orphans computing).

    ``starter``: the pid of the process that started this one, when it is not the parent: a
    forkserver child's parent is the fork server, which lives as long as its children do.
    """
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent or (starter is not None and not process_alive(starter)):
                os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _child(job, connection, starter):
    exit_with_parent(starter=starter)
    try:
        connection.send(execute(job))
    except KeyboardInterrupt:  # Ctrl-C reaches the whole process group: not a failure of the job
        connection.send({"interrupted": True})
    finally:
        connection.close()


def _context():
    # forkserver: children are forked from a clean, single-threaded server, never from a worker
    # whose OpenMP/torch thread pools are already running (fork would risk a deadlock there).
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["qclmix_sklearn.bench._job"])
        return context
    return multiprocessing.get_context("spawn")


def run_job(job, timeout=None):
    """Run ``job``; with ``timeout`` (seconds) in a child process that is killed when it runs over.

    Never raises: failures, crashes and timeouts come back as result dicts with their status.
    """
    die_with_run(job.owner)
    if not timeout:
        return execute(job)
    if multiprocessing.current_process().daemon:
        # e.g. a Dask worker started by a nanny: daemonic processes may not have multiprocessing
        # children, but they may start a fresh interpreter.
        return run_job_in_interpreter(job, timeout)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(job, sender, os.getpid()), daemon=False)
    start = time.perf_counter()
    process.start()
    sender.close()
    try:
        if _wait(job, start, timeout, receiver.poll):
            try:
                result = receiver.recv()
            except EOFError:
                pass
            else:
                if result.get("interrupted"):
                    raise KeyboardInterrupt
                return result
            process.join(5)
            result = job.base_result()
            result.update(
                status="failed",
                error=f"the job's process died (exit code {process.exitcode})",
                versions=library_versions(),
            )
            return result
        return _timeout_result(job, timeout, time.perf_counter() - start)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
