"""Per-job overhead of ``qclmix-bench run``: 24 jobs that each sleep 1 s, on 2 workers.

Runs the command line on a suite file (written to a temporary folder) with the loky backend and
with ``--backend dask`` on a local cluster of 2 worker processes (1 thread each), with the suite's
default time limit, so that each job runs in its worker's job host. The ideal is 12 s (24 jobs x
1 s / 2 workers) plus the command's start-up, measured as a second run on the same store (every
job already stored). The overhead a job is the time each job held a worker beyond its own 1 s,
the workers' own start-up included::

    overhead = (seconds - start_up - ideal) * workers / jobs

Each fit logs when it slept. ``steady_overhead_per_job_seconds`` leaves the start-up of the
command and of its workers out: the same formula over the span from the first fit's start to the
last fit's end. ``warm_gap_seconds`` is the median time between two fits of one process (null when
every fit ran in a process of its own, as before job hosts).

Usage, from the root of the checkout to measure (its ``qclmix_sklearn`` runs everywhere, the Dask
workers included): ``python benchmarks/perf/harness_overhead.py [--backends loky,dask] [--out F]``.
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

JOBS, WORKERS, SECONDS = 24, 2, 1.0

SUITE = textwrap.dedent(
    """
    import os
    import time

    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.datasets import make_classification
    from sklearn.dummy import DummyClassifier
    from sklearn.utils import Bunch

    from qclmix_sklearn.bench import Suite


    class Sleeper(ClassifierMixin, BaseEstimator):
        def __init__(self, seconds=1.0):
            self.seconds = seconds

        def fit(self, X, y):
            start = time.time()
            time.sleep(self.seconds)
            with open(os.environ["SLEEP_LOG"], "a") as log:
                log.write(f"{os.getpid()} {start} {time.time()}\\n")
            self.dummy_ = DummyClassifier().fit(X, y)
            self.classes_ = self.dummy_.classes_
            return self

        def predict(self, X):
            return self.dummy_.predict(X)


    def load(name, data_home=None, download=False):
        X, y = make_classification(200, 8, random_state=int(name[1:]))
        return Bunch(data=X, target=y)


    def make(name, random_state=None):
        return Sleeper(SECONDS), None


    SUITE = Suite(name="sleepers", description="24 sleeps", datasets=["d0", "d1", "d2"],
                  models=["m0", "m1", "m2", "m3"], protocol="cv", n_splits=2, seeds=(0,),
                  load_dataset=load, make_model=make)
    """
).replace("SECONDS", repr(SECONDS))


def _run(suite_file, db, options, expect):
    command = [sys.executable, "-m", "qclmix_sklearn.bench", "run", "--suite-file", suite_file,
               "--db", db, "--n-jobs", str(WORKERS), "--no-progress", *options]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0 or expect not in done.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return seconds, next(line for line in done.stdout.splitlines() if "job(s) run" in line)


def _fits(log):
    """``{pid: [(start, end), ...]}`` of the fits logged."""
    fits = {}
    for line in log.read_text().splitlines():
        pid, start, end = line.split()
        fits.setdefault(pid, []).append((float(start), float(end)))
    return {pid: sorted(runs) for pid, runs in fits.items()}


def _warm_gap(fits):
    """Median seconds between the end of a fit and the start of the next one in one process."""
    gaps = [b[0] - a[1] for runs in fits.values() for a, b in zip(runs, runs[1:])]
    return round(statistics.median(gaps), 3) if gaps else None


def measure(backend, folder, options, repeat=0):
    suite_file = str(folder / "suite.py")
    db = str(folder / f"{backend}-{repeat}.sqlite")
    log = Path(os.environ["SLEEP_LOG"])
    log.write_text("")
    started = time.time()
    seconds, line = _run(suite_file, db, options, f"{JOBS} job(s) run ({JOBS} ok")
    # every job stored: the command's own cost
    start_up, _ = _run(suite_file, db, options, f"{JOBS} already stored")
    fits = _fits(log)
    first = min(runs[0][0] for runs in fits.values())
    span = max(runs[-1][1] for runs in fits.values()) - first
    ideal = JOBS * SECONDS / WORKERS
    return {
        "backend": backend,
        "repeat": repeat,
        "seconds": round(seconds, 2),
        "start_up_seconds": round(start_up, 2),
        "first_fit_after_seconds": round(first - started, 2),
        "ideal_seconds": ideal,
        "overhead_per_job_seconds": round((seconds - start_up - ideal) * WORKERS / JOBS, 3),
        "steady_overhead_per_job_seconds": round((span - ideal) * WORKERS / JOBS, 3),
        "warm_gap_seconds": _warm_gap(fits),
        "summary": line,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="loky,dask")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each backend")
    parser.add_argument("--out", default=None, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())  # the Dask workers import the package that the command runs
    results = []
    with tempfile.TemporaryDirectory(prefix="qclmix-overhead-") as name:
        folder = Path(name)
        (folder / "suite.py").write_text(SUITE)
        os.environ["SLEEP_LOG"] = str(folder / "sleeps.log")  # before the Dask workers start
        for backend in args.backends.split(","):
            with contextlib.ExitStack() as stack:
                options = ("--backend", backend)
                if backend == "dask":
                    from dask.distributed import LocalCluster

                    cluster = stack.enter_context(
                        LocalCluster(
                            n_workers=WORKERS,
                            threads_per_worker=1,
                            processes=True,
                            dashboard_address=None,
                        )
                    )
                    options += ("--scheduler", cluster.scheduler_address)
                for repeat in range(args.repeats):
                    results.append(measure(backend, folder, options, repeat))
                    print(json.dumps(results[-1]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
