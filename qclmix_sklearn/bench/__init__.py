"""Benchmark of QCLMixClassifier, its ablations and the 20 baselines (SPEC §6).

Command line (see ``qclmix-bench --help``)::

    qclmix-bench run --suite quick          # a few minutes on 2 cores
    qclmix-bench run --suite paper --protocol cv --n-jobs -1
    qclmix-bench report --out qclmix-report
    qclmix-bench list datasets

Results go to an SQLite store (``qclmix-results.sqlite``), one row per (dataset, model, protocol,
fold, seed, parameter hash), committed as each job finishes: re-running a command resumes it.
"""

from ._models import QCLMIX_VARIANTS, list_models, make_model
from ._protocols import PROTOCOLS, splits
from ._report import build_report
from ._runner import RunSummary, run_suite
from ._stats import friedman_test, global_friedman, holm, nemenyi
from ._store import ResultStore
from ._suites import PAPER_REPORTED_F1, SUITES, Suite, get_suite

__all__ = [
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
