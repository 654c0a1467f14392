"""Benchmark of QCLMixClassifier, its ablations and the 20 baselines (SPEC §6).

Command line (see ``qclmix-bench --help``)::

    qclmix-bench run --suite quick          # a few minutes on 2 cores
    qclmix-bench run --suite paper --protocol cv --n-jobs -1
    qclmix-bench report --out qclmix-report
    qclmix-bench list datasets

Results go to an SQLite store (``qclmix-results.sqlite``), one row per (dataset, model, protocol,
fold, seed, parameter hash), committed as each job finishes: re-running a command resumes it.
Runs started on one store on one machine claim each job before computing it, and so split the work.
To compute on several machines, run one command with ``--backend dask`` or ``--backend ray``: the
cluster's workers split the suite and that command alone writes the store (on a local disk: a store
on a network filesystem is refused, as SQLite's locking is not reliable there).
"""

from ._missing_extra import MissingExtraError
from ._models import QCLMIX_VARIANTS, list_models, make_model
from ._protocols import PROTOCOLS, splits
from ._report import build_report
from ._runner import RunSummary, run_suite
from ._stats import friedman_test, global_friedman, holm, nemenyi
from ._store import InvalidStoreError, ResultStore
from ._suites import PAPER_REPORTED_F1, SUITES, Suite, get_suite

__all__ = [
    "InvalidStoreError",
    "MissingExtraError",
    "PAPER_REPORTED_F1",
    "PROTOCOLS",
    "QCLMIX_VARIANTS",
    "ResultStore",
    "RunSummary",
    "SUITES",
    "Suite",
    "build_report",
    "friedman_test",
    "global_friedman",
    "holm",
    "nemenyi",
    "get_suite",
    "list_models",
    "make_model",
    "run_suite",
    "splits",
]
