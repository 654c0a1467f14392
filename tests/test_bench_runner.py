"""The runner on tiny fake suites: statuses, resume, time limit, honesty of the splits, Dask."""

import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.utils import Bunch

from qclmix_sklearn.bench import MissingExtraError, ResultStore, Suite, run_suite, splits
from qclmix_sklearn.bench._job import inner_cv_splits, scores
from qclmix_sklearn.datasets import BenchmarkUnavailableError

SEEN_TRAINING_ROWS = []


class RowRecorder(ClassifierMixin, BaseEstimator):
    """Records which rows (first column = row id, before scaling) it is fitted on."""

    def fit(self, X, y):
        SEEN_TRAINING_ROWS.append(np.asarray(X)[:, -1].copy())
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class BrokenImport(ClassifierMixin, BaseEstimator):
    """A model with a bug in its imports, or (``extra=True``) one missing an optional extra."""

    def __init__(self, extra=False):
        self.extra = extra

    def fit(self, X, y):
        if self.extra:
            try:
                import torch_geometric_not_installed  # noqa: F401
            except ModuleNotFoundError as exc:
                exc.name = "torch_geometric"  # as if torch-geometric were not installed
                raise ImportError("install the gnn extra") from exc
        from sklearn.utils import no_such_helper  # noqa: F401 - the bug

        return self


class Crash(ClassifierMixin, BaseEstimator):
    """Ends its process, as a crash of compiled code would."""

    def fit(self, X, y):
        import os

        os._exit(3)


def load(name, data_home=None, download=False):
    if name == "missing":
        raise BenchmarkUnavailableError("not available offline")
    if name == "crashing":
        raise KeyError("a bug in the loader")
    X, y = make_classification(
        90, 5, n_informative=3, n_classes=3 if name == "three" else 2, random_state=1
    )
    if name == "singleton":
        y[0] = 2  # a class with one sample cannot be stratified
    X = np.column_stack([X, np.arange(len(X))])  # last column: the row id (for RowRecorder)
    return Bunch(data=X, target=np.array(["neg", "pos", "mid"])[y])


def make(name, random_state=None):
    return {
        "qclmix": lambda: (LinearDiscriminantAnalysis(), None),
        "lr": lambda: (LogisticRegression(), {"C": [0.1, 1.0, 10.0]}),
        "dummy": lambda: (DummyClassifier(), None),
        "warns": lambda: (LogisticRegression(max_iter=1), None),
        "broken": lambda: (LogisticRegression(C=-1.0), None),
        "gnn": lambda: (_ for _ in ()).throw(MissingExtraError("install the gnn extra")),
        "runaway": lambda: (MLPClassifier(max_iter=10**7, tol=0, n_iter_no_change=10**9), None),
        "recorder": lambda: (RowRecorder(), None),
        "bad_import": lambda: (BrokenImport(), None),
        "needs_extra": lambda: (BrokenImport(extra=True), None),
        "bad_module": lambda: (_ for _ in ()).throw(ModuleNotFoundError("no", name="no_such")),
    }[name]()


def fake_suite(**changes):
    options = dict(
        name="fake",
        description="fake",
        datasets=["two", "three", "missing"],
        models=["qclmix", "lr", "dummy", "broken", "gnn"],
        load_dataset=load,
        make_model=make,
        n_splits=3,
        seeds=(0, 1),
        timeout=0,
    )
    options.update(changes)
    return Suite(**options)


def test_statuses_resume_and_retry(tmp_path):
    messages = []
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(fake_suite(), store, progress=False, log=messages.append)
        assert summary.counts == {"ok": 6, "failed": 2, "skipped": 2}
        assert "missing" in summary.skipped_datasets and any("missing" in m for m in messages)
        frame = store.results().set_index(["dataset", "model"])
        assert frame.loc[("two", "gnn"), "error"] == "MissingExtraError: install the gnn extra"
        assert "InvalidParameterError" in frame.loc[("two", "broken"), "error"]
        assert frame.loc[("two", "lr"), "inner_cv_splits"] == 3
        assert '"model__C"' in frame.loc[("two", "lr"), "best_params"]
        assert (frame["protocol"] == "paper").all() and (frame["seed"] == 42).all()
        assert store.datasets().loc["three", "task"] == "multiclass"
        embeddings = {e["dataset"]: e for e in store.embeddings("qclmix")}
        # LDA's transform: (n_classes - 1) dimensions; the test part is 20% of 90 rows
        assert embeddings["two"]["embedding"].shape == (18, 1)
        assert embeddings["three"]["embedding"].shape == (18, 2)
        assert set(embeddings["three"]["labels"]) == {0, 1, 2}

        again = run_suite(fake_suite(), store, progress=False, log=messages.append)
        # a skip is no result: tried again (the extra may be installed now), the rest is stored
        assert again.counts == {"skipped": 2} and again.already_stored == 8

        retried = run_suite(
            fake_suite(), store, progress=False, retry_failed=True, log=messages.append
        )
        assert retried.counts == {"failed": 2, "skipped": 2}


def test_dataset_that_cannot_be_split_is_skipped(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(
            fake_suite(datasets=["singleton", "two"], models=["dummy"]),
            store,
            progress=False,
            log=lambda message: None,
        )
        assert "cannot split" in summary.skipped_datasets["singleton"]
        assert summary.counts == {"ok": 1}


def test_metrics_are_recorded_with_both_f1_definitions(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_suite(fake_suite(models=["lr"], datasets=["three"]), store, progress=False)
        row = store.results().iloc[0]
    for column in (
        "accuracy",
        "precision_macro",
        "recall_macro",
        "f1_macro",
        "f1_paper",
        "fit_time",
    ):
        assert 0 <= row[column] <= (1 if column != "fit_time" else np.inf)
    p, r = row["precision_macro"], row["recall_macro"]
    assert row["f1_paper"] == pytest.approx(2 * p * r / (p + r))
    assert '"scikit-learn"' in row["versions"]


def test_threshold_free_metrics_are_stored_for_models_with_predict_proba(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_suite(fake_suite(models=["lr", "recorder"], datasets=["three"]), store, progress=False)
        frame = store.results().set_index("model")
    lr, recorder = frame.loc["lr"], frame.loc["recorder"]
    for column in ("average_precision_macro", "roc_auc_macro", "brier_score", "ece"):
        assert 0 <= lr[column] <= 2
    assert lr["log_loss"] > 0
    bins = json.loads(lr["calibration_bins"])
    assert sum(bins["count"]) == lr["n_test"] and len(bins["count"]) == 15
    # RowRecorder has no predict_proba: missing, never 0, and the job still succeeds
    assert recorder["status"] == "ok"
    assert recorder[["log_loss", "ece", "calibration_bins"]].isna().all()


def test_warnings_are_stored_with_the_result(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        run_suite(fake_suite(models=["warns"], datasets=["three"]), store, progress=False)
        row = store.results().iloc[0]
    assert row["status"] == "ok" and "ConvergenceWarning" in row["warnings"]


def test_scores_name_both_f1s():
    result = scores([0, 0, 0, 1], [0, 0, 1, 1])
    assert result["f1_macro"] == pytest.approx((0.8 + 2 / 3) / 2)
    p, r = (1 + 0.5) / 2, (2 / 3 + 1) / 2
    assert result["f1_paper"] == pytest.approx(2 * p * r / (p + r))


def test_cv_protocol_never_fits_on_test_rows(tmp_path):
    SEEN_TRAINING_ROWS.clear()
    suite = fake_suite(models=["recorder"], datasets=["two"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(suite, store, protocol="cv", progress=False)
        assert summary.counts == {"ok": 6}
        frame = store.results()
    assert sorted(zip(frame["seed"], frame["fold"])) == [(s, f) for s in (0, 1) for f in range(3)]
    parts = splits("cv", load("two").target, n_splits=3, seeds=(0, 1))
    assert len(SEEN_TRAINING_ROWS) == len(parts)
    for (_, _, train, test), rows in zip(parts, SEEN_TRAINING_ROWS):
        assert not set(test) & set(train)
        # the model saw exactly the training rows, scaled with the training part's mean and std only
        expected = (train - train.mean()) / train.std()
        np.testing.assert_allclose(np.sort(rows), np.sort(expected))


def test_paper_split_is_stratified_80_20():
    y = np.array([0] * 80 + [1] * 20)
    ((fold, seed, train, test),) = splits("paper", y)
    assert (fold, seed) == (0, 42)
    assert len(test) == 20 and y[test].sum() == 4
    np.testing.assert_array_equal(splits("paper", y)[0][3], test)  # reproducible
    with pytest.raises(ValueError, match="protocol"):
        splits("nope", y)


def test_inner_cv_guard_for_tiny_classes():
    assert inner_cv_splits(np.array([0] * 10 + [1] * 5)) == 3
    assert inner_cv_splits(np.array([0] * 10 + [1] * 2)) == 2
    assert inner_cv_splits(np.array([0] * 10 + [1])) == 2


def test_runaway_job_is_stopped_by_the_time_limit(tmp_path):
    suite = fake_suite(models=["runaway", "dummy"], datasets=["two"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(suite, store, timeout=5, n_jobs=1, progress=False)
        frame = store.results().set_index("model")
    assert summary.counts == {"timeout": 1, "ok": 1}
    assert "time limit of 5 s" in frame.loc["runaway", "error"]


def test_unknown_names_and_missing_backends(tmp_path):
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ValueError, match="unknown model"):
            run_suite(fake_suite(), store, models=["nope"])
        with pytest.raises(ValueError, match="protocol"):
            run_suite(fake_suite(), store, protocol="nope")
        with pytest.raises(ValueError, match="--scheduler"):
            run_suite(fake_suite(datasets=["two"]), store, backend="dask", progress=False)
        try:
            import ray  # noqa: F401
        except ImportError:
            with pytest.raises(ImportError, match="ray extra|qclmix-sklearn\\[ray\\]"):
                run_suite(fake_suite(datasets=["two"]), store, backend="ray", progress=False)


def test_dask_backend_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        with ResultStore(tmp_path / "r.sqlite") as store:
            summary = run_suite(
                fake_suite(models=["lr", "dummy"]),
                store,
                backend="dask",
                scheduler=cluster.scheduler_address,
                n_jobs=2,
                progress=False,
            )
            assert summary.counts == {"ok": 4}
            assert set(store.results()["status"]) == {"ok"}


def _job(estimator, **changes):
    from qclmix_sklearn.bench._job import Job
    from qclmix_sklearn.bench._models import wrap

    bunch = load("two")
    y = (bunch.target == "pos").astype(int)
    ((fold, seed, train, test),) = splits("paper", y)
    options = dict(dataset="two", model="m", protocol="paper", fold=fold, seed=seed,
                   param_hash="h", suite="fake", estimator=wrap(estimator)[0], X=bunch.data, y=y,
                   train=train, test=test)  # fmt: skip
    options.update(changes)
    return Job(**options)


def test_a_job_host_runs_many_jobs_and_is_restarted_after_a_timeout():
    """The path of every worker with a time limit: one persistent child runs its jobs."""
    from qclmix_sklearn.bench._host import JobHost
    from qclmix_sklearn.bench._job import execute

    host = JobHost()
    try:
        job = _job(LogisticRegression(), data_key="two")
        first = host.run(job, timeout=120)
        pid = host.process.pid
        # the second job is sent without its data: the host kept it
        assert "two" in host.datasets and job.without_data().X is None
        second = host.run(job, timeout=120)
        assert host.process.pid == pid, "one host ran both jobs"
        expected = execute(job)
        for result in (first, second):
            assert result["status"] == "ok"
            assert result["f1_macro"] == expected["f1_macro"]
        assert host.run(_job(make("runaway")[0]), timeout=3) is None  # over the time limit
        assert host.process is None, "the host that ran over was killed"
        assert host.run(job, timeout=120)["f1_macro"] == expected["f1_macro"]  # a new one
    finally:
        host.kill()


def test_a_crashed_job_host_fails_its_job_only(tmp_path):
    from qclmix_sklearn.bench._job import run_job

    crash = _job(LogisticRegression(), data_key="two", model="crash")
    crash.estimator = Crash()
    result = run_job(crash, timeout=120)
    assert result["status"] == "failed" and "process died (exit code 3)" in result["error"]
    assert run_job(_job(LogisticRegression()), timeout=120)["status"] == "ok"


def test_worker_stops_its_job_when_the_run_is_gone():
    """A local worker whose main process was killed stops its job instead of computing on."""
    import socket

    from qclmix_sklearn.bench._job import RunGone, run_job

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid is free
    job = _job(make("runaway")[0], owner=(socket.gethostname(), dead.pid))
    with pytest.raises(RunGone, match="main process is gone"):
        run_job(job, timeout=600)
    # without a time limit too: this process does not die with that run, so its host runs the job
    with pytest.raises(RunGone, match="main process is gone"):
        run_job(job, timeout=0)


def test_infrastructure_failure_stops_the_run_but_keeps_results(tmp_path, monkeypatch):
    from qclmix_sklearn.bench import _runner

    calls = []

    def flaky(job, timeout):
        calls.append(job.model)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        return _runner.run_job.__wrapped__(job, timeout)

    flaky.__wrapped__ = _runner.run_job
    monkeypatch.setattr(_runner, "run_job", flaky)
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(
            fake_suite(models=["dummy", "lr", "qclmix"], datasets=["two"]), store, progress=False
        )
        assert summary.interrupted and "RuntimeError: worker lost" in summary.error
        assert "re-run the same command" in summary.line()
        assert len(store) == 1


def test_only_a_missing_extra_is_skipped(tmp_path):
    suite = fake_suite(models=["bad_import", "needs_extra", "bad_module", "gnn"], datasets=["two"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(suite, store, progress=False)
        frame = store.results().set_index("model")
    assert summary.counts == {"failed": 2, "skipped": 2}
    assert frame.loc["bad_import", "status"] == "failed"
    assert "no_such_helper" in frame.loc["bad_import", "error"]
    assert "Traceback" in frame.loc["bad_import", "error"]
    assert frame.loc["bad_module", "status"] == "failed"
    assert frame.loc["needs_extra", "status"] == "skipped"
    assert frame.loc["needs_extra", "error"] == "ImportError: install the gnn extra"


def test_only_an_unavailable_dataset_is_skipped(tmp_path):
    messages = []
    suite = fake_suite(models=["dummy", "lr"], datasets=["missing", "crashing", "two"])
    with ResultStore(tmp_path / "r.sqlite") as store:
        summary = run_suite(suite, store, protocol="cv", progress=False, log=messages.append)
        frame = store.results()
    assert list(summary.skipped_datasets) == ["missing"]
    crashed = frame[frame["dataset"] == "crashing"]
    assert len(crashed) == 2 * 6 and set(crashed["status"]) == {"failed"}  # 2 models x 6 folds
    assert crashed["error"].str.contains("KeyError: 'a bug in the loader'").all()
    assert crashed["error"].str.contains("Traceback").all()
    assert summary.counts == {"ok": 12, "failed": 12}
    assert any("loading dataset crashing failed" in m for m in messages)
    # the failed jobs have the keys of the real jobs: a retry replaces them
    ok = frame[frame["dataset"] == "two"]
    assert set(crashed["param_hash"]) == set(ok["param_hash"])


def test_jobs_claimed_by_another_live_run_are_left_to_it(tmp_path):
    from qclmix_sklearn.bench._claims import Owner
    from qclmix_sklearn.bench._runner import build_jobs
    from qclmix_sklearn.bench._store import STATUSES

    suite = fake_suite(models=["dummy", "lr", "qclmix"], datasets=["two"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with ResultStore(tmp_path / "r.sqlite") as store:
        live, gone = Owner(), Owner(pid=dead.pid)
        keys = [job.key for job in build_jobs(suite, "paper", ["two"], suite.models)]
        assert store.claims.claim(keys[0], live, done_statuses=STATUSES) == "claimed"
        assert store.claims.claim(keys[1], gone, done_statuses=STATUSES) == "claimed"
        summary = run_suite(suite, store, progress=False)
        assert summary.counts == {"ok": 2} and summary.elsewhere == 1
        assert "1 being run by another run" in summary.line()
        assert set(store.finished_keys()) == set(keys[1:])  # the dead run's job was taken over
        assert [claim[:2] for claim in store.claims.held()] == [(keys[0], live.id)]


def test_a_store_on_a_network_filesystem_is_refused(tmp_path, monkeypatch):
    """SQLite's locking is unreliable on network filesystems: several machines use Dask or Ray."""
    from qclmix_sklearn.bench import _network_fs

    share, local = tmp_path / "lab share", tmp_path / "lab share" / "local"
    local.mkdir(parents=True)
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
        f"40 22 0:50 / {str(share).replace(' ', chr(92) + '040')} rw - nfs4 srv:/lab rw\n"
        f"41 40 8:2 / {str(local).replace(' ', chr(92) + '040')} rw - ext4 /dev/sdb1 rw\n"
    )
    assert _network_fs.filesystem_type(share / "r.sqlite", mountinfo) == "nfs4"
    assert _network_fs.filesystem_type(local / "r.sqlite", mountinfo) == "ext4"  # innermost
    with pytest.raises(ValueError, match=r"network filesystem \(nfs4\).*--backend dask"):
        _network_fs.refuse_network_store(share / "r.sqlite", mountinfo)
    _network_fs.refuse_network_store(local / "r.sqlite", mountinfo)
    _network_fs.refuse_network_store(tmp_path / "r.sqlite", mountinfo)

    monkeypatch.setattr(_network_fs, "filesystem_type", lambda path, mountinfo=None: "nfs")
    with ResultStore(tmp_path / "r.sqlite") as store:
        with pytest.raises(ValueError, match=r"network filesystem \(nfs\)"):
            run_suite(fake_suite(datasets=["two"]), store, progress=False)
        assert len(store) == 0


def test_a_missing_extra_is_named_before_skips_are_stored_and_filled_in_later(tmp_path):
    messages = []
    suite = fake_suite(models=["dummy", "gnn"], datasets=["two"])
    with ResultStore(tmp_path / "r.sqlite") as store:

        def log(message):
            messages.append((message, len(store)))

        dry = run_suite(suite, store, progress=False, dry_run=True)
        assert len(store) == 0 and dry.counts == {}
        assert ("two", "gnn", 0, 42, "would be stored as skipped: MissingExtraError: install "
                "the gnn extra") in dry.planned
        run_suite(suite, store, progress=False, log=log)
        warning = [(m, n) for m, n in messages if "missing optional dependency" in m]
        assert warning == [("missing optional dependency for gnn (MissingExtraError: install "
                            "the gnn extra): their 1 job(s) are stored as skipped; install it and "
                            "run the same command again to fill them in (a stored result is never "
                            "hidden by a skip)", 0)]  # said before anything was stored
        # the extra installed: the same command runs the job; the report shows its result
        installed = fake_suite(models=["dummy", "gnn"], datasets=["two"],
                               make_model=lambda n, random_state=None: (DummyClassifier(), None))
        summary = run_suite(installed, store, progress=False)
        assert summary.counts == {"ok": 1} and summary.already_stored == 1


def test_parameters_added_later_count_in_the_settings_hash_only_where_they_change_the_fit():
    from qclmix_sklearn.bench._models import ADDED_PARAMETERS, make_model
    from qclmix_sklearn.bench._runner import _configure
    from qclmix_sklearn.bench._suites import get_suite

    suite = get_suite("dev")

    def estimator_config(model):
        return _configure(suite, model, 0, {"n_splits": 3}, make_model)[2]["estimator"]

    single = estimator_config("qclmix_no_portfolio")
    # At the values where they compute what the code before them computed: left out,
    # so the rows stored before they existed keep their settings hash.
    added = [set(addition) for addition in ADDED_PARAMETERS]
    assert not set.union(*added) & set(single) and "hidden_sizes" in single
    # Every variant is built on one configuration: its rows keep their hash too.
    assert all("portfolio" not in estimator_config(model) for model in (
        "qclmix_narrow", "qclmix_logit_adjusted", "qclmix_auto_offsets", "qclmix_paper"))
    # Today's default sets the portfolio, the latest addition stays out at its old value.
    default = estimator_config("qclmix")
    assert default["portfolio"] == "feature_selection" and "feature_selection" not in default
    # One of an addition set: that addition and the earlier ones count, the later ones not
    # (the portfolio's rows were stored before feature_selection existed).
    portfolio = estimator_config("qclmix_portfolio_auto")
    assert portfolio["portfolio"] == "imbalance" and portfolio["ensemble_selection"] == 25
    assert "feature_selection" not in portfolio
    selection = estimator_config("qclmix_feature_selection")
    assert selection["feature_selection"] == "shadow" and selection["portfolio"] is None
