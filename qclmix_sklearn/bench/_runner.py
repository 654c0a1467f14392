"""Run a suite: build the jobs, skip the stored ones, run the rest through joblib, store results.

Workers return results; only this (main) process writes to the SQLite store, one commit per job, so
an interrupted run resumes where it stopped. Each job is claimed in the store as it is dispatched,
so that runs sharing a store on one machine compute each job once. Several machines are the work of
the Dask and Ray backends: their workers compute, this process alone writes the store, which must
be on a local disk (:func:`refuse_network_store`).
"""

import contextlib
import hashlib
import json
import os
import socket
import traceback
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs, parallel_config
from sklearn.preprocessing import LabelEncoder

from ._claims import Heartbeat, Owner
from ._job import Job, close_host, library_versions, run_job
from ._missing_extra import is_missing_extra
from ._models import ADDED_PARAMETERS, is_qclmix, make_model as default_make_model, wrap
from ._network_fs import refuse_network_store
from ._protocols import PROTOCOLS, splits
from ._store import STATUSES
from ._suite_file import modules_of
from ._suites import shrink_grid

BACKENDS = ("loky", "dask", "ray")


@dataclass
class RunSummary:
    """What a run did: counts per status of the jobs it ran, jobs skipped as already stored."""

    total: int = 0
    already_stored: int = 0
    counts: Counter = field(default_factory=Counter)
    problems: list = field(
        default_factory=list
    )  # (dataset, model, fold, seed, status, first error line)
    skipped_datasets: dict = field(default_factory=dict)
    #: jobs left to another live run that claimed them (runs sharing a store split the work)
    elsewhere: int = 0
    interrupted: bool = False
    error: str = None  # why the run stopped early, when it was not Ctrl-C
    #: with ``dry_run``: ``(dataset, model, fold, seed, why)`` of every job the run would compute
    #: or store
    planned: list = field(default_factory=list)

    def line(self):
        ran = sum(self.counts.values())
        parts = ", ".join(f"{self.counts.get(s, 0)} {s}" for s in STATUSES)
        text = (
            f"{ran} job(s) run ({parts}); {self.already_stored} already stored; "
            f"{self.total} in the suite"
        )
        if self.elsewhere:
            text += f"; {self.elsewhere} being run by another run on this store"
        if self.skipped_datasets:
            text += f"; dataset(s) not available: {', '.join(self.skipped_datasets)}"
        if self.interrupted:
            reason = f" ({self.error})" if self.error else ""
            text += f" -- INTERRUPTED{reason}: re-run the same command to resume"
        return text


def param_hash(config):
    """Stable short hash of a job's configuration (model settings, grid, protocol options)."""
    text = json.dumps(config, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _default_load_dataset(name, data_home=None, download=False):
    from ..datasets import load_benchmark

    return load_benchmark(name, data_home=data_home, download=download)


def _set_known_params(estimator, params):
    """Set those of ``params`` that ``estimator`` has; return what was set."""
    known = estimator.get_params(deep=True)
    used = {k: v for k, v in params.items() if k in known}
    if used:
        estimator.set_params(**used)
    return used


def job_data(bunch):
    """What every job of a loaded dataset trains on: ``(float64 X, y encoded 0..C-1, classes)``."""
    encoder = LabelEncoder()
    y = encoder.fit_transform(np.asarray(bunch.target))
    return np.asarray(bunch.data, dtype=np.float64), y, encoder.classes_


def _data_key(X, y):
    """A digest of a dataset: job hosts keep the datasets they were sent under it."""
    digest = hashlib.sha256(X.tobytes())
    digest.update(y.tobytes())
    return digest.hexdigest()[:16]


def _dataset_info(bunch, y):
    classes, counts = np.unique(y, return_counts=True)
    n_classes = len(classes)
    return {
        "task": "binary" if n_classes == 2 else "multiclass",
        "n_samples": int(len(y)),
        "n_features": int(np.asarray(bunch.data).shape[1]),
        "n_classes": int(n_classes),
        "imbalance_ratio": float(counts.max() / counts.min()),
    }


def _backend_context(backend, scheduler):
    """joblib backend context; Dask and Ray are optional extras with clear messages when missing."""
    if backend == "loky":
        return contextlib.nullcontext()
    if backend == "dask":
        try:
            from dask.distributed import Client
        except ImportError as exc:
            raise ImportError(
                "--backend dask needs dask.distributed: pip install 'qclmix-sklearn[distributed]'"
            ) from exc
        if not scheduler:
            raise ValueError("--backend dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
        stack = contextlib.ExitStack()
        stack.enter_context(Client(scheduler))
        stack.enter_context(parallel_config(backend="dask"))
        return stack
    if backend == "ray":
        try:
            import ray
            from ray.util.joblib import register_ray
        except ImportError as exc:
            raise ImportError(
                "--backend ray needs ray, which is not installed: pip install 'qclmix-sklearn[ray]'"
            ) from exc
        if not ray.is_initialized():
            ray.init(address=scheduler or None)
        register_ray()
        return parallel_config(backend="ray")
    raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")


def protocol_options_of(suite, protocol):
    """The options of ``protocol`` that ``suite`` sets: what a job's settings hash covers."""
    return {"test_size": suite.test_size} if protocol == "paper" else {"n_splits": suite.n_splits}


def _configure(suite, model, seed, protocol_options, make_model):
    """``(pipeline, grid, config)`` of ``model`` in ``suite``; config is what its hash covers."""
    estimator, grid = make_model(model, random_state=seed)
    used = _set_known_params(estimator, suite.common_params)
    used.update(_set_known_params(estimator, suite.model_params.get(model, {})))
    grid = shrink_grid(grid, suite.model_grid_sizes.get(model, suite.max_grid_size))
    config = {
        "model": model,
        "params": used,
        "grid": grid,
        "inner_cv": suite.inner_cv,
        "protocol": protocol_options,
    }
    if is_qclmix(model):
        # A variant is its parameters, defaults included: results stored under other defaults
        # are not taken for this configuration's. The parameters added later count only where
        # one changes the computation (see ADDED_PARAMETERS).
        params = {k: v for k, v in estimator.get_params().items() if k != "random_state"}
        for added in reversed(ADDED_PARAMETERS):
            if not all(k in params and params[k] == v for k, v in added.items()):
                break
            params = {k: v for k, v in params.items() if k not in added}
        config["estimator"] = params
    pipeline, pipeline_grid = wrap(estimator, grid)
    return pipeline, pipeline_grid, config


def _unbuilt(suite, model, protocol_options, base, exc, status):
    """The stored result of a job that could not start (``exc``: the reason)."""
    config = {
        "model": model,
        "params": {},
        "grid": None,
        "inner_cv": suite.inner_cv,
        "protocol": protocol_options,
    }
    error = f"{type(exc).__name__}: {exc}"
    if status == "failed":
        error += "\n" + "".join(traceback.format_exception(exc))
    return {
        **base,
        "param_hash": param_hash(config),
        "params": config,
        "status": status,
        "error": error,
        "versions": library_versions(),
    }


def _split_keys(suite, protocol):
    """``(fold, seed)`` of every split of ``protocol``, numbered as :func:`splits` numbers them."""
    if protocol == "paper":
        return [(0, int(suite.paper_seed))]
    return [(fold, int(seed)) for seed in suite.seeds for fold in range(suite.n_splits)]


def _load_failures(suite, protocol, dataset, models, exc, protocol_options, make_model):
    """A failed result for every job of a dataset whose loader crashed (not: was unavailable)."""
    for model in models:
        for fold, seed in _split_keys(suite, protocol):
            base = {"dataset": dataset, "model": model, "protocol": protocol, "fold": fold,
                    "seed": seed, "suite": suite.name}  # fmt: skip
            error = f"loading dataset {dataset!r} failed: {type(exc).__name__}: {exc}\n" + (
                "".join(traceback.format_exception(exc))
            )
            try:  # the job's own key, so that a re-run with --retry-failed replaces the row
                _, _, config = _configure(suite, model, seed, protocol_options, make_model)
            except Exception as model_exc:  # noqa: BLE001
                yield _unbuilt(suite, model, protocol_options, base, model_exc, "failed")
                continue
            yield {
                **base,
                "param_hash": param_hash(config),
                "params": config,
                "status": "failed",
                "error": error,
                "versions": library_versions(),
            }


def build_jobs(
    suite,
    protocol,
    datasets,
    models,
    *,
    data_home=None,
    download=False,
    summary=None,
    store=None,
    log=print,
):
    """Yield the suite's jobs, and ready-made results of the jobs that cannot start here.

    A dataset whose loader says it is not available (``BenchmarkUnavailableError``) is skipped;
    any other error of the loader fails the dataset's jobs, with its traceback.
    """
    from ..datasets import BenchmarkUnavailableError

    load_dataset = suite.load_dataset or _default_load_dataset
    make_model = suite.make_model or default_make_model
    suite_modules = modules_of(suite.make_model, suite.load_dataset)  # e.g. a model class there
    protocol_options = protocol_options_of(suite, protocol)
    for dataset in datasets:
        try:
            bunch = load_dataset(dataset, data_home=data_home, download=download)
        except BenchmarkUnavailableError as exc:
            message = f"{type(exc).__name__}: {exc}"
            log(f"skipping dataset {dataset}: {message}")
            if summary is not None:
                summary.skipped_datasets[dataset] = message
            continue
        except Exception as exc:  # noqa: BLE001 - a broken loader fails its jobs, not the run
            log(f"loading dataset {dataset} failed: {type(exc).__name__}: {exc}")
            yield from _load_failures(
                suite, protocol, dataset, models, exc, protocol_options, make_model
            )
            continue
        X, y, classes = job_data(bunch)
        data_key = _data_key(X, y)
        if store is not None:
            store.add_dataset(dataset, classes=classes, **_dataset_info(bunch, y))
        try:
            parts = splits(
                protocol,
                y,
                test_size=suite.test_size,
                paper_seed=suite.paper_seed,
                n_splits=suite.n_splits,
                seeds=suite.seeds,
            )
        except ValueError as exc:  # e.g. a class with a single sample cannot be stratified
            message = f"cannot split it with the {protocol} protocol: {exc}"
            log(f"skipping dataset {dataset}: {message}")
            if summary is not None:
                summary.skipped_datasets[dataset] = message
            continue
        for model in models:
            for fold, seed, train, test in parts:
                base = {
                    "dataset": dataset,
                    "model": model,
                    "protocol": protocol,
                    "fold": fold,
                    "seed": seed,
                    "suite": suite.name,
                    "n_train": len(train),
                    "n_test": len(test),
                }
                try:
                    pipeline, pipeline_grid, config = _configure(
                        suite, model, seed, protocol_options, make_model
                    )
                except Exception as exc:  # noqa: BLE001
                    status = "skipped" if is_missing_extra(exc) else "failed"
                    yield _unbuilt(suite, model, protocol_options, base, exc, status)
                    continue
                yield Job(
                    dataset=dataset,
                    model=model,
                    protocol=protocol,
                    fold=fold,
                    seed=seed,
                    param_hash=param_hash(config),
                    suite=suite.name,
                    estimator=pipeline,
                    X=X,
                    y=y,
                    train=train,
                    test=test,
                    param_grid=pipeline_grid,
                    params=config,
                    inner_cv=suite.inner_cv,
                    # the first split's test embedding of the full model, for the t-SNE figure
                    store_embedding=model == "qclmix" and fold == 0 and seed == parts[0][1],
                    suite_modules=suite_modules,
                    data_key=data_key,
                )


def _key(item):
    if isinstance(item, Job):
        return item.key
    return tuple(item[c] for c in ("dataset", "model", "protocol", "fold", "seed", "param_hash"))


def _why(item, stored, by_job):
    """``(dataset, model, fold, seed, why)``: why a dry run would compute (or store) ``item``.

    ``by_job``: the stored statuses of each (dataset, model, protocol, fold, seed), any settings.
    """
    key = _key(item)
    if not isinstance(item, Job):
        why = f"would be stored as {item['status']}: {item['error'].splitlines()[0]}"
    elif key in stored:
        why = f"retry: stored as {stored[key][0]}"
    elif key[:5] in by_job:
        why = f"re-run: stored ({', '.join(sorted(by_job[key[:5]]))}) under other parameters"
    else:
        why = "new"
    return (*key[:2], *key[3:5], why)


def _warn_missing_extras(pending, log):
    """Say which models miss an optional dependency before their jobs are stored as skipped."""
    missing = Counter()
    reasons = {}
    for item in pending:
        if not isinstance(item, Job) and item["status"] == "skipped":
            missing[item["model"]] += 1
            reasons.setdefault(item["error"].splitlines()[0], []).append(item["model"])
    for reason, names in reasons.items():
        names = list(dict.fromkeys(names))
        log(
            f"missing optional dependency for {', '.join(names)} ({reason}): their "
            f"{sum(missing[n] for n in names)} job(s) are stored as skipped; install it and run "
            "the same command again to fill them in (a stored result is never hidden by a skip)"
        )


def run_suite(
    suite,
    store,
    *,
    protocol=None,
    datasets=None,
    models=None,
    data_home=None,
    download=False,
    n_jobs=1,
    backend="loky",
    scheduler=None,
    timeout=None,
    retry_failed=False,
    progress=True,
    log=print,
    dry_run=False,
):
    """Run ``suite``'s jobs that are not in ``store`` yet and store each result as it arrives.

    Parameters
    ----------
    suite : Suite
    store : ResultStore
    protocol : {"paper", "cv"}, default=None
        Default: the suite's protocol.
    datasets, models : list of str, default=None
        Subsets of the suite's datasets and models (default: all of them).
    timeout : float, default=None
        Per-job time limit in seconds (default: the suite's); 0 disables it.
    retry_failed : bool, default=False
        Also re-run jobs stored as failed or timeout. A job stored as skipped (a missing
        optional dependency) is always tried again.
    dry_run : bool, default=False
        Compute and store nothing (``store`` may be read-only): list in ``summary.planned`` the
        jobs the run would compute, each with why (never stored, stored under other parameters,
        a stored failure to retry, or a skip for a missing optional dependency).

    Returns
    -------
    summary : RunSummary
    """
    protocol = protocol or suite.protocol
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {PROTOCOLS}")
    for kind, chosen, available in (
        ("dataset", datasets, suite.datasets),
        ("model", models, suite.models),
    ):
        unknown = sorted(set(chosen or ()) - set(available))
        if unknown:
            raise ValueError(
                f"unknown {kind}(s) {unknown} for suite {suite.name!r}; available: {available}"
            )
    datasets = [d for d in suite.datasets if not datasets or d in datasets]
    models = [m for m in suite.models if not models or m in models]
    timeout = suite.timeout if timeout is None else timeout
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    refuse_network_store(store.path)

    summary = RunSummary()
    owner = Owner()
    # a skip is no result: a plain re-run tries it again (e.g. once the missing extra is there)
    done_statuses = ("ok",) if retry_failed else tuple(s for s in STATUSES if s != "skipped")
    stored = store.versions()
    done = {key for key, (status, *_) in stored.items() if status in done_statuses}
    pending = []
    for item in build_jobs(
        suite,
        protocol,
        datasets,
        models,
        data_home=data_home,
        download=download,
        summary=summary,
        store=None if dry_run else store,
        log=log,
    ):
        summary.total += 1
        if _key(item) in done:
            summary.already_stored += 1
        else:
            pending.append(item)
    if dry_run:
        by_job = {}
        for key, (status, *_) in stored.items():
            by_job.setdefault(key[:5], set()).add(status)
        summary.planned = [_why(item, stored, by_job) for item in pending]
        return summary
    _warn_missing_extras(pending, log)

    def claim(item):
        # a result stored since this run started is done, even a failure under --retry-failed
        version = stored.get(_key(item))
        seen = version[1:] if version else None
        state = store.claims.claim(_key(item), owner, done_statuses=done_statuses, seen=seen)
        if state == "done":  # another run stored it meanwhile
            summary.already_stored += 1
        return state

    def claimed(items):
        """The ``items`` this run claims as it goes; those that another live run holds are tried
        once more at the end (that run may have died meanwhile), then left to it."""
        busy = []
        for item in items:
            state = claim(item)
            if state == "claimed":
                yield item
            elif state == "busy":
                busy.append(item)
        for item in busy:
            state = claim(item)
            if state == "claimed":
                yield item
            elif state == "busy":
                summary.elsewhere += 1

    def record(result):
        store.add(result)
        summary.counts[result["status"]] += 1
        if result["status"] != "ok":
            first_line = (result.get("error") or "").strip().splitlines()[:1]
            summary.problems.append(
                (
                    result["dataset"],
                    result["model"],
                    result["fold"],
                    result["seed"],
                    result["status"],
                    first_line[0] if first_line else "",
                )
            )

    jobs = [item for item in pending if isinstance(item, Job)]
    unbuilt = [item for item in pending if not isinstance(item, Job)]
    if backend == "loky":
        workers = max(1, min(len(jobs), effective_n_jobs(n_jobs)))
        # Share the cores between the workers instead of every job starting one thread per core.
        threads = max(1, (os.cpu_count() or 1) // workers)
    else:  # cluster workers usually run one job per core: one thread each
        threads = 1
    for job in jobs:
        job.n_threads = threads
        job.owner = (socket.gethostname(), os.getpid())
    # Connect before the try: a wrong backend or scheduler is an error of the command, not of a job.
    context = _backend_context(backend, scheduler) if jobs else contextlib.nullcontext()
    from tqdm.auto import tqdm

    bar = tqdm(
        total=summary.total,
        initial=summary.total - len(jobs),
        unit="job",
        disable=not progress,
        desc=f"{suite.name}/{protocol}",
        dynamic_ncols=True,
    )
    try:
        # the heartbeat keeps this run's claims alive; on exit, it releases those left
        with context, Heartbeat(store.claims, owner):
            for item in claimed(unbuilt):
                record(item)
            if jobs:
                # batch_size=1: a job is claimed when it is dispatched, not in batches ahead
                parallel = Parallel(n_jobs=n_jobs, batch_size=1, return_as="generator_unordered")
                tasks = (delayed(run_job)(job, timeout) for job in claimed(jobs))
                for result in parallel(tasks):
                    record(result)
                    bar.update(1)
                    bad = sum(v for k, v in summary.counts.items() if k != "ok")
                    if bad:
                        bar.set_postfix(not_ok=bad)
    except KeyboardInterrupt:
        summary.interrupted = True
    except Exception as exc:  # noqa: BLE001 - e.g. a lost cluster worker: keep what is stored
        summary.interrupted = True
        summary.error = f"{type(exc).__name__}: {exc}"
    finally:
        bar.close()
        close_host()  # the one this process started when it ran jobs itself (--n-jobs 1)
    return summary
