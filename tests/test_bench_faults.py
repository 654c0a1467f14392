"""Fault injection on real ``qclmix-bench run`` processes: kill -9, resume, concurrent runs, Dask.

The fake models live in a module beside the suite file (on PYTHONPATH), log every fit to a file and
may sleep, so that the tests can see which jobs were computed and where a run is.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="walks the process tree in /proc"
)

FAKES = textwrap.dedent(
    """
    import hashlib
    import os
    import time

    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis


    class Logged(ClassifierMixin, BaseEstimator):
        '''LDA that appends "pid tag" to $FIT_LOG when it fits, after sleeping ``seconds``.'''

        def __init__(self, tag="", seconds=0.0):
            self.tag = tag
            self.seconds = seconds

        def fit(self, X, y):
            job = hashlib.sha1(X.tobytes()).hexdigest()[:12]  # the training rows: one per job
            with open(os.environ["FIT_LOG"], "a") as log:
                log.write(f"{os.getpid()} {self.tag}-{job}\\n")
            time.sleep(self.seconds)
            self.lda_ = LinearDiscriminantAnalysis().fit(X, y)
            self.classes_ = self.lda_.classes_
            return self

        def predict(self, X):
            return self.lda_.predict(X)
    """
)

SUITE = textwrap.dedent(
    """
    import os

    from sklearn.datasets import make_classification
    from sklearn.utils import Bunch

    from fakes import Logged
    from qclmix_sklearn.bench import Suite

    SECONDS = float(os.environ.get("FIT_SECONDS", "0"))


    def load(name, data_home=None, download=False):
        X, y = make_classification(60, 4, n_informative=2, random_state=int(name[1:]))
        return Bunch(data=X, target=y)


    def make(name, random_state=None):
        return Logged(tag=name, seconds=SECONDS), None


    SUITE = Suite(name="faults", description="tiny", datasets=["d0", "d1", "d2"],
                  models=["m0", "m1", "m2", "m3"], protocol="cv", n_splits=2, seeds=(0,),
                  load_dataset=load, make_model=make, timeout=float(os.environ["TIMEOUT"]))
    """
)
N_JOBS = 3 * 4 * 2  # datasets x models x folds


@pytest.fixture
def bench(tmp_path):
    (tmp_path / "fakes.py").write_text(FAKES)
    (tmp_path / "suite.py").write_text(SUITE)

    def start(db, *, n_jobs=1, seconds=0.0, timeout=0, log="fits.log", options=(), setsid=False):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "FIT_LOG": str(tmp_path / log),
            "FIT_SECONDS": str(seconds),
            "TIMEOUT": str(timeout),
        }
        command = [sys.executable, "-m", "qclmix_sklearn.bench", "run", "--suite-file",
                   str(tmp_path / "suite.py"), "--db", str(tmp_path / db), "--n-jobs",
                   str(n_jobs), "--no-progress", *options]  # fmt: skip
        # output to a file, not a pipe: a surviving worker would hold a pipe open
        output = tmp_path / f"{db}.{len(list(tmp_path.glob('*.out')))}.out"
        with open(output, "w") as file:
            process = subprocess.Popen(
                command, stdout=file, stderr=subprocess.STDOUT, env=env, start_new_session=setsid
            )
        process.output = output
        return process

    return start


def _fits(path):
    return path.read_text().splitlines() if path.exists() else []


def _wait_for(condition, what, timeout=120, process=None):
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"the run ended before {what}: {process.output.read_text()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _live_processes():
    """``(pid, fields of /proc/pid/stat after the name)`` of every process but zombies."""
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":  # a zombie has exited already
            yield int(name), fields


def _children():
    """pid -> parent pid of every process."""
    return {pid: int(fields[1]) for pid, fields in _live_processes()}


def _group(pgid):
    """The processes (not zombies) of process group ``pgid``."""
    return {pid for pid, fields in _live_processes() if int(fields[3]) == pgid}


def _descendants(pid):
    parents, found, todo = _children(), set(), [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _rows(db, columns="*"):
    with sqlite3.connect(db, timeout=30) as con:
        return sorted(con.execute(f"SELECT {columns} FROM results").fetchall())


def _kill(process):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait()


def _finish(process):
    process.wait(300)
    return process.returncode, process.output.read_text()


@pytest.mark.parametrize("timeout", [0, 120], ids=["in-worker", "in-child-process"])
def test_workers_die_with_a_killed_run(bench, tmp_path, timeout):
    run = bench("r.sqlite", n_jobs=2, seconds=600, timeout=timeout)
    try:
        _wait_for(lambda: len(_fits(tmp_path / "fits.log")) >= 2, "two fits", process=run)
        workers = _descendants(run.pid)
        fitting = {int(line.split()[0]) for line in _fits(tmp_path / "fits.log")}
        assert fitting <= workers
    finally:
        _kill(run)
    alive = lambda: workers & set(_children())  # noqa: E731
    try:
        _wait_for(lambda: not alive(), "the workers to exit", timeout=30)
    finally:
        for pid in alive():  # never leave the sleepers behind, even when the test fails
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("timeout", [0, 120], ids=["in-worker", "in-job-host"])
def test_a_killed_run_in_its_own_session_leaves_no_process(bench, tmp_path, timeout):
    """As ``setsid qclmix-bench run ...; kill -9``: nothing of its process group lives on."""
    run = bench("r.sqlite", n_jobs=2, seconds=600, timeout=timeout, setsid=True)
    try:
        _wait_for(lambda: len(_fits(tmp_path / "fits.log")) >= 2, "two fits", process=run)
        assert len(_group(run.pid)) > 3  # the run, its workers (and their hosts), trackers
    finally:
        _kill(run)
    try:  # the target is 2 s; the margin is for a loaded machine
        _wait_for(lambda: not _group(run.pid), "the run's process group to exit", timeout=10)
    finally:
        for pid in _group(run.pid):
            os.kill(pid, signal.SIGKILL)


COLUMNS = "dataset, model, protocol, fold, seed, param_hash, status, accuracy, f1_macro"


def _clean_rows(tmp_path, monkeypatch):
    """The rows of an uninterrupted run of the suite, here, one job after the other."""
    from qclmix_sklearn.bench import ResultStore, get_suite, run_suite

    monkeypatch.syspath_prepend(str(tmp_path))  # the clean run, here: the same suite and models
    monkeypatch.setenv("TIMEOUT", "0")
    monkeypatch.setenv("FIT_LOG", str(tmp_path / "clean.log"))
    with ResultStore(tmp_path / "clean.sqlite") as store:
        summary = run_suite(get_suite(suite_file=tmp_path / "suite.py"), store, progress=False)
    assert summary.counts == {"ok": N_JOBS}
    expected = _rows(tmp_path / "clean.sqlite", COLUMNS)
    assert len(expected) == N_JOBS
    return expected


def test_killed_run_resumes_to_exactly_the_clean_runs_rows(bench, tmp_path, monkeypatch):
    expected = _clean_rows(tmp_path, monkeypatch)
    run = bench("r.sqlite", seconds=0.2)
    try:
        _wait_for(lambda: len(_fits(tmp_path / "fits.log")) >= 6, "six fits", process=run)
    finally:
        _kill(run)
    assert len(_rows(tmp_path / "r.sqlite")) < N_JOBS, "the run was killed midway"
    code, output = _finish(bench("r.sqlite"))
    assert code == 0, output
    assert _rows(tmp_path / "r.sqlite", COLUMNS) == expected
    with sqlite3.connect(tmp_path / "r.sqlite") as con:
        assert con.execute("SELECT COUNT(*) FROM claims").fetchone() == (0,)


def test_two_concurrent_runs_compute_each_job_once(bench, tmp_path):
    runs = [bench("r.sqlite", seconds=0.2) for _ in range(2)]
    try:
        outputs = [_finish(run) for run in runs]
    finally:
        for run in runs:
            _kill(run)
    assert [code for code, _ in outputs] == [0, 0], outputs
    fits = [line.split()[1] for line in _fits(tmp_path / "fits.log")]
    assert len(fits) == N_JOBS and len(set(fits)) == N_JOBS  # each job computed exactly once
    assert len(_rows(tmp_path / "r.sqlite")) == N_JOBS


NO_SQLITE = textwrap.dedent(
    """
    import os
    import sys

    if os.environ.get("QCLMIX_TEST_NO_SQLITE"):

        def _no_store(event, args):
            if event == "sqlite3.connect":
                raise RuntimeError("a worker opened an SQLite database: only the driver may")

        sys.addaudithook(_no_store)
    """
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two Dask worker processes that may not open any SQLite database (nor may their hosts)."""
    distributed = pytest.importorskip("dask.distributed")
    folder = tmp_path_factory.mktemp("cluster")
    (folder / "fakes.py").write_text(FAKES)
    (folder / "sitecustomize.py").write_text(NO_SQLITE)
    with pytest.MonkeyPatch.context() as scheduler:
        # the scheduler (here) unpickles the tasks too, and so imports the suite file
        scheduler.syspath_prepend(str(folder))
        scheduler.setenv("TIMEOUT", "0")
        with pytest.MonkeyPatch.context() as env:  # what the workers start with, not the driver
            path = os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])
            env.setenv("PYTHONPATH", path)
            env.setenv("FIT_LOG", str(folder / "fits.log"))
            env.setenv("QCLMIX_TEST_NO_SQLITE", "1")
            cluster = distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            )
        with cluster:
            cluster.fits = folder / "fits.log"
            cluster.options = ("--backend", "dask", "--scheduler", cluster.scheduler_address)
            yield cluster


def test_a_killed_dask_run_leaves_no_job_computing(bench, cluster):
    """Dask workers serve others and live on, but the jobs of a killed run stop (no time limit)."""
    before = len(_fits(cluster.fits))
    run = bench("r.sqlite", n_jobs=2, seconds=600, options=cluster.options, setsid=True)
    try:
        _wait_for(lambda: len(_fits(cluster.fits)) >= before + 2, "two fits", process=run)
    finally:
        _kill(run)
    fitting = {int(line.split()[0]) for line in _fits(cluster.fits)[before:]}
    computing = lambda: (fitting | _group(run.pid)) & set(_children())  # noqa: E731
    try:
        _wait_for(lambda: not computing(), "the jobs to stop", timeout=10)
    finally:
        for pid in computing():
            os.kill(pid, signal.SIGKILL)


def test_a_dask_run_splits_resumes_and_matches_a_local_run(bench, tmp_path, cluster, monkeypatch):
    expected = _clean_rows(tmp_path, monkeypatch)
    before = len(_fits(cluster.fits))
    run = bench("r.sqlite", n_jobs=2, seconds=0.2, options=cluster.options)
    try:
        _wait_for(lambda: len(_fits(cluster.fits)) >= before + 6, "six fits", process=run)
    finally:
        _kill(run)
    assert len(_rows(tmp_path / "r.sqlite")) < N_JOBS, "the run was killed midway"
    code, output = _finish(bench("r.sqlite", n_jobs=2, options=cluster.options))
    assert code == 0, output
    # the workers computed every job, on both workers, and opened no store (see NO_SQLITE)
    assert _rows(tmp_path / "r.sqlite", COLUMNS) == expected
    fits = _fits(cluster.fits)[before:]
    assert len({line.split()[0] for line in fits}) >= 2
    assert _fits(tmp_path / "fits.log") == [], "the driver computed nothing"


def test_a_dask_job_stops_when_its_run_is_dropped(cluster):
    """A run on another machine cannot be watched from a worker: its jobs stop when the scheduler
    drops its tasks (as it does when the run's client is gone)."""
    from dask.distributed import Client
    from fakes import Logged  # the scheduler's, here (see the fixture)
    from sklearn.datasets import make_classification

    from qclmix_sklearn.bench._job import Job, run_job

    X, y = make_classification(60, 4, n_informative=2, random_state=0)
    job = Job(dataset="d", model="m", protocol="paper", fold=0, seed=0, param_hash="h",
              suite="s", estimator=Logged(tag="dropped", seconds=600), X=X, y=y,
              train=np.arange(40), test=np.arange(40, 60),
              owner=("another-machine", 1))  # fmt: skip
    before = len(_fits(cluster.fits))
    with Client(cluster) as client:
        future = client.submit(run_job, job, 0, pure=False)
        _wait_for(lambda: len(_fits(cluster.fits)) > before, "the fit")
        (fitting,) = {int(line.split()[0]) for line in _fits(cluster.fits)[before:]}
        future.cancel()
        try:
            _wait_for(lambda: fitting not in _children(), "the job to stop", timeout=10)
        finally:
            if fitting in _children():
                os.kill(fitting, signal.SIGKILL)
