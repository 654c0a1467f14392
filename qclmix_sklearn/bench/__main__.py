"""``qclmix-bench``: run benchmark suites, build the report, list datasets and models.

Examples::

    qclmix-bench run --suite quick            # a few minutes on 2 cores
    qclmix-bench report --out qclmix-report   # Markdown + PNG figures from the stored results
    qclmix-bench list datasets
"""

import argparse
import sqlite3
import sys

from ._protocols import PROTOCOLS
from ._runner import BACKENDS
from ._store import DEFAULT_DB
from ._suites import SUITES


def _csv(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def _names(text):
    """A comma-separated list of names; an empty one is refused (it would mean "all")."""
    names = _csv(text)
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show a default only where it says something and the help text does not already."""

    def _get_help_string(self, action):
        if action.default in (None, False, argparse.SUPPRESS) or "default" in action.help:
            return action.help
        return super()._get_help_string(action)


def _seeds(text):
    try:
        return tuple(int(s) for s in _csv(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"seeds must be comma-separated integers, got {text!r}"
        ) from None


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_float(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def build_parser():
    parser = argparse.ArgumentParser(
        prog="qclmix-bench",
        description="Benchmark QCLMixClassifier, its ablations and the 20 baselines (paper Tables "
        "2-6, Figures 2-5). Results go to an SQLite store; an interrupted run resumes where it "
        "stopped.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a suite (skips jobs already in the results store)",
        description="Run a benchmark suite. Every finished job is committed to the store at once; "
        "running the same command again skips stored jobs, so an interrupted run resumes. Runs "
        "started on one store on this machine claim each job before computing it, and so split "
        "the work. To use several machines, run one command with --backend dask or ray: the "
        "cluster's workers compute, this command alone writes the store (which must be on a local "
        "disk, not a network filesystem).",
        formatter_class=_HelpFormatter,
    )
    suites_help = "; ".join(f"{name}: {suite.description}" for name, suite in SUITES.items())
    run.add_argument(
        "--suite", choices=sorted(SUITES), default="quick", help=f"which suite ({suites_help})"
    )
    run.add_argument(
        "--suite-file",
        metavar="FILE",
        help="a Python file that defines SUITE = Suite(...) (qclmix_sklearn.bench.Suite), run "
        "instead of --suite: your own datasets, models and protocol",
    )
    run.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=None,
        help="paper: stratified 80/20 split with seed 42, baselines tuned by 3-fold GridSearchCV "
        "on the training part; cv: stratified k-fold repeated over --seeds. Default: the suite's "
        "(paper)",
    )
    run.add_argument(
        "--datasets",
        type=_names,
        default=None,
        help="comma-separated subset of the suite's datasets (default: all)",
    )
    run.add_argument(
        "--models",
        type=_names,
        default=None,
        help="comma-separated subset of the suite's models (default: all)",
    )
    run.add_argument("--db", default=DEFAULT_DB, help="SQLite results store (created when missing)")
    run.add_argument(
        "--data-home", default=None, help="dataset folder (default: the datasets package's default)"
    )
    run.add_argument(
        "--download", action="store_true", help="download datasets that are not available offline"
    )
    run.add_argument(
        "--n-jobs", type=int, default=-1, help="parallel jobs (-1: all cores / all cluster workers)"
    )
    run.add_argument(
        "--backend",
        choices=BACKENDS,
        default="loky",
        help="loky: local processes; dask: a Dask distributed cluster (needs --scheduler); ray: a "
        "Ray cluster (needs the ray extra)",
    )
    run.add_argument(
        "--scheduler", default=None, help="Dask scheduler address (tcp://host:8786) or Ray address"
    )
    run.add_argument(
        "--timeout",
        type=_non_negative_float,
        default=None,
        help="per-job time limit in seconds; a job over it is stopped and stored as 'timeout' (0: "
        "no limit; default: the suite's)",
    )
    run.add_argument(
        "--retry-failed",
        action="store_true",
        help="re-run jobs stored as failed or timeout (a job stored as skipped, for a missing "
        "optional dependency, is always tried again)",
    )
    run.add_argument(
        "--n-splits",
        type=_positive_int,
        default=None,
        help="folds of the cv protocol (default: the suite's)",
    )
    run.add_argument(
        "--seeds", type=_seeds, default=None, help="comma-separated seeds of the cv protocol"
    )
    run.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=None,
        help="epochs of QCLMix and the DL/GNN baselines",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="compute and store nothing: list the jobs this command would compute (never stored, "
        "stored under other parameters, or a stored failure to retry) and those it would store "
        "as skipped (a missing optional dependency); the store is opened read-only",
    )
    run.add_argument(
        "--report", default=None, metavar="DIR", help="build the report into DIR after the run"
    )

    report = commands.add_parser(
        "report",
        help="build the Markdown report and figures from stored results",
        description="Write report.md with per-dataset tables, ranks, Friedman / Iman-Davenport "
        "tests, post-hoc test and the figures (PNG) into --out.",
        formatter_class=_HelpFormatter,
    )
    report.add_argument("--db", default=DEFAULT_DB, help="SQLite results store")
    report.add_argument("--out", default="qclmix-report", help="output folder")
    report.add_argument(
        "--protocol", type=_names, default=None, help="protocols to report (default: all stored)"
    )
    report.add_argument(
        "--suite",
        type=_names,
        default=None,
        help="only results stored by these suites, comma-separated (default: all)",
    )
    report.add_argument(
        "--posthoc",
        choices=("nemenyi", "holm"),
        default="nemenyi",
        help="post-hoc test of QCLMix against the others (the CD diagram is always Nemenyi)",
    )
    report.add_argument("--alpha", type=float, default=0.05, help="significance level")
    report.add_argument(
        "--tsne-datasets",
        type=_names,
        default=None,
        help="datasets of the t-SNE figure (default: one binary and one multi-class)",
    )
    report.add_argument("--no-tsne", action="store_true", help="skip the t-SNE figure")

    listing = commands.add_parser(
        "list",
        help="list datasets, models or suites",
        formatter_class=_HelpFormatter,
    )
    listing.add_argument("what", choices=("datasets", "models", "suites"), help="what to list")
    listing.add_argument(
        "--data-home", default=None, help="dataset folder, to show which datasets are available"
    )
    return parser


def _run(args, parser):
    from ._runner import run_suite
    from ._store import ResultStore
    from ._suites import get_suite

    suite = get_suite(args.suite, suite_file=args.suite_file)
    changes = {"n_splits": args.n_splits, "seeds": args.seeds}
    if args.max_epochs is not None:
        changes["common_params"] = {**suite.common_params, "max_epochs": args.max_epochs}
    suite = suite.with_options(**changes)
    if args.dry_run:
        return _dry_run(args, suite)
    with ResultStore(args.db) as store:
        summary = run_suite(
            suite,
            store,
            protocol=args.protocol,
            datasets=args.datasets,
            models=args.models,
            data_home=args.data_home,
            download=args.download,
            n_jobs=args.n_jobs,
            backend=args.backend,
            scheduler=args.scheduler,
            timeout=args.timeout,
            retry_failed=args.retry_failed,
            progress=not args.no_progress,
            log=lambda m: print(m, file=sys.stderr),
        )
        for dataset, model, fold, seed, status, error in summary.problems:
            print(
                f"  {status}: {dataset} / {model} (fold {fold}, seed {seed}): {error}",
                file=sys.stderr,
            )
        print(summary.line())
        print(f"results: {args.db}")
        if args.report and not summary.interrupted:
            from ._report import build_report

            print(f"report: {build_report(store, args.report)}")
    if summary.error:
        return 1
    return 130 if summary.interrupted else 0


def _dry_run(args, suite):
    """List what ``run`` would compute or store, reading the store only."""
    import tempfile
    from collections import Counter
    from pathlib import Path

    from ._runner import run_suite
    from ._store import ResultStore

    with tempfile.TemporaryDirectory() as empty:
        exists = Path(args.db).is_file()
        with ResultStore(args.db if exists else Path(empty) / "none.sqlite", read_only=exists) as store:
            summary = run_suite(
                suite, store, protocol=args.protocol, datasets=args.datasets, models=args.models,
                data_home=args.data_home, download=args.download, retry_failed=args.retry_failed,
                log=lambda m: print(m, file=sys.stderr), dry_run=True,
            )  # fmt: skip
    kinds = Counter()
    for dataset, model, fold, seed, why in summary.planned:
        print(f"{dataset} / {model} (fold {fold}, seed {seed}): {why}")
        kinds[why.split(":")[0]] += 1
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "nothing"
    print(f"dry run: {len(summary.planned)} job(s) to run or store ({counts}); "
          f"{summary.already_stored} already stored; {summary.total} in the suite; {args.db} "
          "unchanged")  # fmt: skip
    return 0


def _report(args):
    from ._report import build_report

    path = build_report(
        args.db,
        args.out,
        protocols=args.protocol,
        suites=args.suite,
        posthoc=args.posthoc,
        alpha=args.alpha,
        tsne_datasets=args.tsne_datasets,
        tsne=not args.no_tsne,
    )
    print(f"report: {path}")
    return 0


def _list(args):
    if args.what == "suites":
        for name, suite in SUITES.items():
            print(f"{name}: {suite.description}")
            print(f"    datasets: {', '.join(suite.datasets)}")
            print(f"    models: {', '.join(suite.models)}")
    elif args.what == "models":
        from ._models import list_models

        for family, names in list_models().items():
            print(f"{family}: {', '.join(names)}")
    else:
        from ..datasets import benchmark_available, list_benchmarks

        for name in list_benchmarks():
            available = benchmark_available(name, data_home=args.data_home)
            print(f"{name:30s} {'available' if available else 'not available offline'}")
    return 0


def main(argv=None):
    """Entry point of the ``qclmix-bench`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _run(args, parser)
        if args.command == "report":
            return _report(args)
        return _list(args)
    except (
        ValueError,
        ImportError,
        OSError,
    ) as exc:  # OSError: unreachable scheduler, unwritable path
        parser.exit(2, f"qclmix-bench: error: {exc}\n")
    except sqlite3.Error as exc:  # e.g. a store corrupted mid-way, or locked for minutes
        parser.exit(2, f"qclmix-bench: error: results store {getattr(args, 'db', None)}: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
