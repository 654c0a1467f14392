"""Re-run stored jobs with today's code and compare their metrics with the stored ones exactly.

On a temporary copy of the store (the store itself is only read), the chosen jobs' rows are
deleted and the same suite command computes them again; each job's five metrics are then compared
with the stored row of the same key (dataset, model, protocol, fold, seed, settings hash)::

    python benchmarks/verify_rerun.py --db benchmarks/results/dev.sqlite --suite dev \
        --models qclmix_paper,qclmix_narrow --datasets zoo-3,new-thyroid1

(``--suite-file benchmarks/beyond/screen_suite.py`` instead of ``--suite`` for a suite file's store.)

Prints one line per model (jobs compared, how many reproduce exactly) and every difference.
With ``--replace``, each stored row that today's code does not reproduce is then replaced in the
store by the row computed now (its metrics, times, versions and date), so the store holds what
its regenerate command computes; run it per dataset to keep an interruption's loss small.
"""

import argparse
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from qclmix_sklearn.bench import ResultStore, get_suite, run_suite
from qclmix_sklearn.bench._store import METRIC_COLUMNS

KEY = "dataset, model, protocol, fold, seed, param_hash"


def _metrics(db):
    """The metric columns of the store ``db`` (a store written by an older version has fewer)."""
    with sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True) as con:
        present = {row[1] for row in con.execute("PRAGMA table_info(results)")}
    return [column for column in METRIC_COLUMNS if column in present]


def _rows(db, models, datasets, metrics):
    marks = lambda values: ",".join("?" * len(values))  # noqa: E731
    with sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True) as con:
        query = (f"SELECT {KEY}, {', '.join(metrics)} FROM results WHERE status = 'ok' AND "
                 f"model IN ({marks(models)}) AND dataset IN ({marks(datasets)})")  # fmt: skip
        return {row[:6]: row[6:] for row in con.execute(query, (*models, *datasets))}


def _same(stored, again):
    """Whether a re-run gives the stored metrics; one the stored row lacks (NULL: stored before
    that metric existed) is not compared."""
    return all(old is None or old == new for old, new in zip(stored, again))


def _replace(db, source, keys):
    """Replace the rows ``keys`` of the store ``db`` by those of the store ``source``, in one
    transaction."""
    with sqlite3.connect(db) as con:
        con.execute("ATTACH DATABASE ? AS source", (str(source),))
        # by name, those both have: opening the copy may have added columns that the store
        # lacks, and a newer version may have added some to the store since (left empty here)
        source_columns = {row[1] for row in con.execute("PRAGMA source.table_info(results)")}
        columns = ", ".join(row[1] for row in con.execute("PRAGMA main.table_info(results)")
                            if row[1] in source_columns)
        for key in keys:
            where = f"({KEY}) = (?, ?, ?, ?, ?, ?)"
            con.execute(f"DELETE FROM main.results WHERE {where}", key)
            con.execute(f"INSERT INTO main.results ({columns}) "
                        f"SELECT {columns} FROM source.results WHERE {where}", key)
    con.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the results store (only read)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--suite", help="the suite that stored the jobs")
    which.add_argument("--suite-file", help="a Python file defining SUITE (as for qclmix-bench run)")
    parser.add_argument("--models", required=True, help="comma-separated models to re-run")
    parser.add_argument("--datasets", required=True, help="comma-separated datasets to re-run")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--fold", type=int, default=None, help="only this fold (default: all)")
    parser.add_argument("--seed", type=int, default=None, help="only this seed (default: all)")
    parser.add_argument("--n-jobs", type=int, default=1, help="jobs run in parallel")
    parser.add_argument("--replace", action="store_true",
                        help="replace each stored row that does not reproduce by today's row")
    args = parser.parse_args(argv)
    models, datasets = args.models.split(","), args.datasets.split(",")
    metrics = _metrics(args.db)  # compared as stored: a newer version may add columns
    stored = {key: values for key, values in _rows(args.db, models, datasets, metrics).items()
              if args.fold in (None, key[3]) and args.seed in (None, key[4])}
    if not stored:
        parser.error("no stored ok row of these models on these datasets")
    suite = get_suite(args.suite, suite_file=args.suite_file)
    if args.max_epochs is not None:
        suite = suite.with_options(common_params={**suite.common_params,
                                                  "max_epochs": args.max_epochs})
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.sqlite"
        shutil.copyfile(args.db, copy)
        with sqlite3.connect(copy) as con:
            for key in stored:
                con.execute(f"DELETE FROM results WHERE ({KEY}) = (?, ?, ?, ?, ?, ?)", key)
        with ResultStore(copy) as store:
            run_suite(suite, store, datasets=datasets, models=models, data_home=args.data_home,
                      n_jobs=args.n_jobs, progress=False, log=lambda m: None)
        again = _rows(copy, models, datasets, metrics)  # the other folds: still the stored rows
        changed = [key for key in stored if key in again and not _same(stored[key], again[key])]
        if args.replace and changed:
            _replace(args.db, copy, changed)
    status = 0
    for model in models:
        keys = sorted(k for k in stored if k[1] == model)
        same = [k for k in keys if k in again and _same(stored[k], again[k])]
        replaced = " (the others replaced)" if args.replace and len(same) < len(keys) else ""
        print(f"{model}: {len(same)} of {len(keys)} stored jobs reproduced exactly{replaced}")
        for key in keys:
            if key not in same:
                status = 1
                new = again.get(key)
                change = f"{stored[key][3]:.4f} -> {new[3]:.4f}" if new else "not re-run"  # F1
                print(f"    {key[0]} fold {key[3]} seed {key[4]}: macro-F1 {change}")
    return status


if __name__ == "__main__":
    sys.exit(main())
