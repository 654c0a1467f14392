"""The qclmix-bench command: help, listing, errors, and a real kill -9 in the middle of a run;
and ``benchmarks/verify_rerun.py``, which re-runs a store's jobs."""

import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from qclmix_sklearn.bench.__main__ import main

SUITE_FILE = textwrap.dedent(
    """
    from sklearn.datasets import make_classification
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.utils import Bunch

    from qclmix_sklearn.bench import Suite

    def load(name, data_home=None, download=False):
        X, y = make_classification(150, 6, n_informative=4, n_classes=3, random_state=int(name[1:]))
        return Bunch(data=X, target=y)

    def make(name, random_state=None):
        if name == "qclmix":
            return LinearDiscriminantAnalysis(), None
        depth = int(name[-1])
        forest = RandomForestClassifier(30, max_depth=depth, random_state=random_state)
        return forest, {"n_estimators": [20, 30]}

    SUITE = Suite(name="kill-test", description="tiny", datasets=[f"d{i}" for i in range(6)],
                  models=["qclmix", "rf1", "rf2", "rf3", "rf4"], load_dataset=load, make_model=make,
                  timeout=0)
    """
)


def _rows(db):
    if not os.path.exists(db):
        return []
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return sorted(con.execute("SELECT * FROM results").fetchall())
    except sqlite3.OperationalError:  # table not created yet
        return []


def test_help_explains_every_command(capsys):
    for argv in (["--help"], ["run", "--help"], ["report", "--help"], ["list", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--suite",
        "--protocol",
        "--db",
        "--backend",
        "--scheduler",
        "--timeout",
        "--n-jobs",
        "--retry-failed",
        "--posthoc",
        "--out",
        "datasets",
    ):
        assert option in text
    assert "--suite-file" in text and "--dry-run" in text
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "issue" not in text.lower() and "SPEC" not in text  # no internal references


def test_list_models_and_suites(capsys):
    assert main(["list", "models"]) == 0
    assert main(["list", "suites"]) == 0
    text = capsys.readouterr().out
    assert "qclmix_no_mixup" in text and "smote_svm" in text and "jknet" in text
    assert "quick:" in text and "paper:" in text and "ablation:" in text


def test_clear_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--db", str(tmp_path / "none.sqlite"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "run `qclmix-bench run` first" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", "--suite", "quick", "--models", "nope", "--db", str(tmp_path / "r.sqlite")])
    assert "unknown model" in capsys.readouterr().err


def test_killed_run_resumes_without_losing_results(tmp_path):
    suite_file = tmp_path / "suite.py"
    suite_file.write_text(SUITE_FILE)
    db = str(tmp_path / "results.sqlite")
    command = [
        sys.executable,
        "-m",
        "qclmix_sklearn.bench",
        "run",
        "--suite-file",
        str(suite_file),
        "--db",
        db,
        "--n-jobs",
        "1",
        "--no-progress",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while len(_rows(db)) < 4:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the run stored nothing"
            time.sleep(0.1)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
    before = _rows(db)
    assert 4 <= len(before) < 30, "kill the run midway"

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(before)} already stored" in resumed.stdout
    after = _rows(db)
    assert len(after) == 30
    assert set(before) <= set(after)  # earlier results intact, byte for byte
    assert {row[7] for row in after} == {"ok"}

    out = tmp_path / "report"
    assert main(["report", "--db", db, "--out", str(out), "--posthoc", "holm"]) == 0
    report = (out / "report.md").read_text()
    assert "Holm" in report and "Iman–Davenport" in report and "| d0 |" in report
    for figure in ("cd_diagram", "fig2_improvement", "fig3_boxplots", "fig4_tsne"):
        assert (out / f"paper_{figure}.png").stat().st_size > 0


@pytest.mark.parametrize("content", [b"", b"not a database" * 50], ids=["empty", "junk"])
@pytest.mark.parametrize("command", ["run", "report"])
def test_a_file_that_is_not_a_store_is_a_one_line_error(tmp_path, capsys, content, command):
    db = tmp_path / "results.sqlite"
    db.write_bytes(content)
    argv = [command, "--db", str(db)] + (
        ["--suite", "quick", "--no-progress"] if command == "run" else ["--out", str(tmp_path)]
    )
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qclmix-bench: error: {db} is ") and err.count("\n") == 1
    assert db.read_bytes() == content  # left untouched


OWN_MODEL_SUITE = textwrap.dedent(
    """
    import numpy as np
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.datasets import make_classification
    from sklearn.utils import Bunch

    from qclmix_sklearn.bench import Suite


    class Nearest(ClassifierMixin, BaseEstimator):
        '''A model defined in the suite file itself: nearest class mean.'''

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            self.means_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
            return self

        def predict(self, X):
            distances = ((X[:, None, :] - self.means_[None]) ** 2).sum(axis=2)
            return self.classes_[distances.argmin(axis=1)]


    def load(name, data_home=None, download=False):
        X, y = make_classification(60, 4, n_informative=2, random_state=0)
        return Bunch(data=X, target=y)


    SUITE = Suite(name="own", description="tiny", datasets=["d"], models=["nearest"],
                  protocol="cv", n_splits=2, seeds=(0,), load_dataset=load,
                  make_model=lambda name, random_state=None: (Nearest(), None), timeout=0)
    """
)


def test_a_suite_file_may_define_its_own_model(tmp_path, capsys):
    """Its jobs pickle into loky workers (cloudpickle, by reference to the suite file)."""
    suite_file = tmp_path / "own_suite.py"
    suite_file.write_text(OWN_MODEL_SUITE)
    db = tmp_path / "r.sqlite"
    argv = ["run", "--suite-file", str(suite_file), "--db", str(db), "--n-jobs", "2"]
    assert main([*argv, "--no-progress"]) == 0, capsys.readouterr()
    assert [row[7] for row in _rows(str(db))] == ["ok", "ok"]


def test_a_suite_files_model_in_a_job_host(tmp_path):
    """The path of jobs with a time limit: the job is pickled to the worker's job host."""
    from qclmix_sklearn.bench._job import run_job
    from qclmix_sklearn.bench._runner import build_jobs
    from qclmix_sklearn.bench._suites import get_suite

    suite_file = tmp_path / "own_suite.py"
    suite_file.write_text(OWN_MODEL_SUITE)
    suite = get_suite(suite_file=suite_file)
    job = next(build_jobs(suite, "paper", ["d"], ["nearest"]))
    result = run_job(job, timeout=120)
    assert result["status"] == "ok", result.get("error")


@pytest.mark.parametrize("option", ["--models", "--datasets"])
def test_an_empty_subset_is_refused_not_taken_for_all(option, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--suite", "quick", option, "", "--db", str(tmp_path / "r.sqlite")])
    assert exit_info.value.code == 2
    assert f"argument {option}: expected comma-separated names, got ''" in capsys.readouterr().err
    assert not (tmp_path / "r.sqlite").exists()


def test_a_regenerate_command_on_a_committed_store_reruns_nothing(tmp_path, capsys):
    """Run a suite, copy its store as a commit would, run the same command twice on the copy."""
    suite_file = tmp_path / "own_suite.py"
    suite_file.write_text(OWN_MODEL_SUITE)
    made, committed = tmp_path / "made.sqlite", tmp_path / "committed.sqlite"
    argv = ["run", "--suite-file", str(suite_file), "--n-jobs", "1", "--no-progress", "--db"]
    assert main([*argv, str(made)]) == 0
    committed.write_bytes(made.read_bytes())
    capsys.readouterr()
    assert main([*argv, str(committed), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: 0 job(s) to run or store (nothing); 2 already stored" in out
    for _ in range(2):
        assert main([*argv, str(committed)]) == 0
        assert "0 job(s) run (0 ok, 0 failed, 0 timeout, 0 skipped); 2 already stored" in (
            capsys.readouterr().out
        )


def test_a_dry_run_lists_what_would_run_and_why_without_writing(tmp_path, capsys):
    suite_file = tmp_path / "own_suite.py"
    suite_file.write_text(OWN_MODEL_SUITE)
    db = tmp_path / "r.sqlite"
    argv = ["run", "--suite-file", str(suite_file), "--n-jobs", "1", "--no-progress", "--db", str(db)]
    assert main([*argv, "--dry-run"]) == 0  # no store yet: none is created
    assert "2 job(s) to run or store (2 new)" in capsys.readouterr().out and not db.exists()
    assert main(argv) == 0
    with sqlite3.connect(db) as con:  # as if stored by another version: other parameters
        con.execute("UPDATE results SET param_hash = 'old' WHERE fold = 0")
    before = db.read_bytes()
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "d / nearest (fold 0, seed 0): re-run: stored (ok) under other parameters" in out
    assert "1 job(s) to run or store (1 re-run); 1 already stored" in out
    assert db.read_bytes() == before


VERIFY_RERUN = Path(__file__).resolve().parents[1] / "benchmarks" / "verify_rerun.py"


def _verify(argv):
    spec = importlib.util.spec_from_file_location("verify_rerun", VERIFY_RERUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


def _f1(db):
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT fold, f1_macro FROM results ORDER BY fold"))


def test_reruns_a_suite_files_jobs_and_replaces_only_rows_that_differ(tmp_path, capsys):
    suite_file = tmp_path / "own_suite.py"
    suite_file.write_text(OWN_MODEL_SUITE)
    db = tmp_path / "r.sqlite"
    assert main(["run", "--suite-file", str(suite_file), "--db", str(db), "--no-progress"]) == 0
    computed = _f1(db)
    argv = ["--db", str(db), "--suite-file", str(suite_file), "--models", "nearest",
            "--datasets", "d"]
    capsys.readouterr()
    assert _verify(argv) == 0
    assert "nearest: 2 of 2 stored jobs reproduced exactly" in capsys.readouterr().out

    with sqlite3.connect(db) as con:  # a row that an older code computed
        con.execute("UPDATE results SET f1_macro = 0.123 WHERE fold = 1")
    assert _verify(argv) == 1  # compared only: the store is left as it is
    out = capsys.readouterr().out
    assert "nearest: 1 of 2 stored jobs reproduced exactly" in out
    assert f"d fold 1 seed 0: macro-F1 0.1230 -> {computed[1]:.4f}" in out
    assert _f1(db)[1] == 0.123

    assert _verify([*argv, "--replace"]) == 1
    assert "(the others replaced)" in capsys.readouterr().out
    assert _f1(db) == computed
    assert _verify(argv) == 0


def test_a_metric_the_stored_row_lacks_is_not_compared():
    spec = importlib.util.spec_from_file_location("verify_rerun", VERIFY_RERUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # A row stored before the probability metrics existed holds NULL there.
    assert module._same((0.5, 0.8, None), (0.5, 0.8, 0.71))
    assert not module._same((0.5, 0.8, 0.70), (0.5, 0.8, 0.71))
    assert not module._same((0.5, 0.8, None), (0.5, 0.9, 0.71))
