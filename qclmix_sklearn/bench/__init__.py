"""Benchmark of QCLMixClassifier, its ablations and the 20 baselines (SPEC §6).

Command line: ``qclmix-bench run --suite quick``, ``qclmix-bench report``, ``qclmix-bench list``.
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
