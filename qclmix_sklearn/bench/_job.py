"""One benchmark job: fit a model on a training part, score it on the test part.

A job runs in a worker (a local process, a Dask or a Ray worker) and *returns* its result; only the
main process writes to the results store. With a time limit, the job runs in the worker's job host
(:mod:`._host`), a persistent child that is killed when the limit passes, so that a runaway model
cannot stall the run. A local worker process dies with the run that started it, and a host with
its worker: kill -9 of a run leaves nothing computing.
"""

import contextlib
import functools
import platform
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field, replace
from importlib import metadata

import numpy as np
from sklearn.base import clone
from sklearn.metrics import accuracy_score, precision_score, recall_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from ._claims import process_alive
from ._host import HostDied, JobHost, die_with_run, dies_with_run, is_local_owner
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
    #: a digest of ``X`` and ``y``: a job host keeps the data it was sent under this key
    data_key: str = None

    def __reduce__(self):
        # The suite's file first: unpickling imports it before the estimator, whose class it may
        # define.
        return _rebuild_job, (SuiteModules(self.suite_modules or {}), self.__dict__)

    def without_data(self):
        """This job without ``X`` and ``y``, for a job host that holds them under ``data_key``."""
        return replace(self, X=None, y=None)

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
    """The versions of Python and of the libraries that the benchmark's results depend on."""
    return dict(_library_versions())


@functools.cache  # a worker or job host looks them up once, not once a job
def _library_versions():
    versions = {"python": platform.python_version()}
    for name in _VERSION_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return tuple(versions.items())


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


def failed_result(job, error):
    """The result of ``job`` that failed outside the model (``error``: why)."""
    result = job.base_result()
    result.update(status="failed", error=error, versions=library_versions())
    return result


class RunGone(RuntimeError):
    """The run's main process is gone: nobody will store this job's result."""


def _stop_if_run_gone(owner):
    if is_local_owner(owner) and not process_alive(owner[1]):
        raise RunGone("the run's main process is gone")
    if _dask_task_dropped():
        raise RunGone("no client wants this Dask task any more: the run is gone")


def _dask_task_dropped():
    """Whether this thread runs a Dask task that its client dropped (a run on another machine that
    was killed: its process cannot be watched from here, but the scheduler cancels its tasks)."""
    worker_module = sys.modules.get("distributed.worker")
    if worker_module is None:
        return False
    try:
        worker = worker_module.get_worker()
    except ValueError:  # not in a Dask task
        return False
    key = getattr(worker_module.thread_state, "key", None)
    if key is None:
        return False
    task = worker.state.tasks.get(key)
    return task is None or task.state == "cancelled"


_hosts = threading.local()  # the job host of each worker thread


def run_job(job, timeout=None):
    """Run ``job``; with ``timeout`` (seconds), in the worker's host, killed when it runs over.

    Without a time limit, the job runs here where this process dies with the run (the run itself,
    a loky worker), and in the host elsewhere (a Dask or Ray worker), so that a killed run leaves
    nothing computing. Never raises but :class:`RunGone`: failures, crashes and timeouts come back
    as result dicts with their status.
    """
    die_with_run(job.owner)
    if not timeout and dies_with_run(job.owner):
        return execute(job)
    if getattr(_hosts, "host", None) is None:
        _hosts.host = JobHost()
    start = time.perf_counter()
    try:
        result = _hosts.host.run(job, timeout, stop=lambda: _stop_if_run_gone(job.owner))
    except HostDied as exc:
        return failed_result(job, str(exc))
    if result is None:
        return _timeout_result(job, timeout, time.perf_counter() - start)
    if "host_error" in result:
        return failed_result(job, result["host_error"])
    return result


def close_host():
    """Stop this thread's job host, if it has one (the next job starts a new one)."""
    host = getattr(_hosts, "host", None)
    if host is not None:
        host.kill()
        _hosts.host = None
