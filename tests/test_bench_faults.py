"""Fault injection on real ``qclmix-bench run`` processes: kill -9, resume, concurrent runs.

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

    def start(db, *, n_jobs=1, seconds=0.0, timeout=0, log="fits.log"):
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
            "FIT_LOG": str(tmp_path / log),
            "FIT_SECONDS": str(seconds),
            "TIMEOUT": str(timeout),
        }
        command = [sys.executable, "-m", "qclmix_sklearn.bench", "run", "--suite-file",
                   str(tmp_path / "suite.py"), "--db", str(tmp_path / db), "--n-jobs",
                   str(n_jobs), "--no-progress"]  # fmt: skip
        # output to a file, not a pipe: a surviving worker would hold a pipe open
        output = tmp_path / f"{db}.{len(list(tmp_path.glob('*.out')))}.out"
        with open(output, "w") as file:
            process = subprocess.Popen(command, stdout=file, stderr=subprocess.STDOUT, env=env)
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


def _children():
    """pid -> parent pid of every process."""
    out = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":  # a zombie has exited already
            out[int(name)] = int(fields[1])
    return out


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


def test_killed_run_resumes_to_exactly_the_clean_runs_rows(bench, tmp_path, monkeypatch):
    from qclmix_sklearn.bench import ResultStore, get_suite, run_suite

    monkeypatch.syspath_prepend(str(tmp_path))  # the clean run, here: the same suite and models
    monkeypatch.setenv("TIMEOUT", "0")
    monkeypatch.setenv("FIT_LOG", str(tmp_path / "clean.log"))
    with ResultStore(tmp_path / "clean.sqlite") as store:
        summary = run_suite(get_suite(suite_file=tmp_path / "suite.py"), store, progress=False)
    assert summary.counts == {"ok": N_JOBS}
    columns = "dataset, model, protocol, fold, seed, param_hash, status, accuracy, f1_macro"
    expected = _rows(tmp_path / "clean.sqlite", columns)
    assert len(expected) == N_JOBS

    run = bench("r.sqlite", seconds=0.2)
    try:
        _wait_for(lambda: len(_fits(tmp_path / "fits.log")) >= 6, "six fits", process=run)
    finally:
        _kill(run)
    assert len(_rows(tmp_path / "r.sqlite")) < N_JOBS, "the run was killed midway"
    code, output = _finish(bench("r.sqlite"))
    assert code == 0, output
    assert _rows(tmp_path / "r.sqlite", columns) == expected
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
