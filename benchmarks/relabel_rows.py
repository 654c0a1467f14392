"""Store a model's rows under another model name whose configuration computes the same thing.

When a default changes, a stored variant can become what another name now trains: after the
``feature_selection`` portfolio became the default, ``qclmix_selection_portfolio``'s rows are
what ``qclmix`` computes, and the former ``qclmix`` rows are ``qclmix_no_portfolio``'s. A job's
settings hash covers its model name, so such rows would otherwise be computed again. This moves
(or, with ``--source``, copies from another store) the rows of ``--from`` to ``--to`` in the
suite's store, with ``--to``'s settings hash and configuration, and refuses unless the two
configurations train the same estimator: equal parameters once a named ``portfolio`` is
resolved to its entries (``benchmarks/bit_identity.py`` checks that such equal parameters fit
bit for bit; ``benchmarks/verify_rerun.py`` then re-runs a sample of the moved rows)::

    python benchmarks/relabel_rows.py --db benchmarks/results/modern.sqlite --suite modern \
        --from qclmix --to qclmix_no_portfolio
    python benchmarks/relabel_rows.py --db benchmarks/results/dev.sqlite --suite dev \
        --from qclmix --to qclmix --source benchmarks/results/dev-wide.sqlite

Rows and their t-SNE embeddings move in one transaction; a row already stored under the new
key is an error.
"""

import argparse
import json
import sqlite3
import sys

from qclmix_sklearn import QCLMixClassifier
from qclmix_sklearn.bench import get_suite
from qclmix_sklearn.bench._models import make_model as default_make_model
from qclmix_sklearn.bench._runner import _configure, param_hash, protocol_options_of

KEY = ("dataset", "model", "protocol", "fold", "seed", "param_hash")


def training_parameters(config):
    """A job configuration's estimator parameters, a named ``portfolio`` as its entries."""
    params = dict(config.get("estimator", {}))
    if isinstance(params.get("portfolio"), str):
        resolved = QCLMixClassifier(portfolio=params["portfolio"])._portfolio_entries()
        params["portfolio"] = [dict(entry) for entry in resolved]
    return json.loads(json.dumps({**config, "model": None, "estimator": params},
                                 sort_keys=True, default=str))


def relabel(db, suite, old, new, source=None, datasets=None):
    """Move (copy from ``source``) the ``ok`` rows of ``old`` to ``new``; returns how many."""
    make_model = suite.make_model or default_make_model
    with sqlite3.connect(db) as con:
        if source is not None:
            con.execute("ATTACH DATABASE ? AS source", (str(source),))
        origin = "source.results" if source is not None else "main.results"
        columns = [row[1] for row in con.execute("PRAGMA main.table_info(results)")]
        query = f"SELECT {', '.join(columns)} FROM {origin} WHERE model = ? AND status = 'ok'"
        rows = [dict(zip(columns, row)) for row in con.execute(query, (old,))]
        if datasets is not None:
            rows = [row for row in rows if row["dataset"] in datasets]
        moved = 0
        for row in rows:
            config = _configure(suite, new, row["seed"],
                                protocol_options_of(suite, row["protocol"]), make_model)[2]
            if training_parameters(json.loads(row["params"])) != training_parameters(config):
                raise ValueError(f"{old} and {new} train different estimators in suite "
                                 f"{suite.name}: nothing relabelled")
            old_key = tuple(row[c] for c in KEY)
            row.update(model=new, param_hash=param_hash(config), suite=suite.name,
                       params=json.dumps(config, sort_keys=True, default=str))
            new_key = tuple(row[c] for c in KEY)
            where = " AND ".join(f"{c} = ?" for c in KEY)
            if con.execute(f"SELECT 1 FROM main.results WHERE {where}", new_key).fetchone():
                raise ValueError(f"a row is already stored under {new_key}")
            con.execute(f"INSERT INTO main.results ({', '.join(row)}) VALUES "
                        f"({', '.join('?' * len(row))})", tuple(row.values()))
            embeddings = "source.embeddings" if source is not None else "main.embeddings"
            embedding = con.execute(f"SELECT * FROM {embeddings} WHERE {where}",
                                    old_key).fetchone()
            if embedding is not None:
                con.execute(f"INSERT INTO main.embeddings VALUES "
                            f"({', '.join('?' * len(embedding))})",
                            new_key + tuple(embedding[len(KEY):]))
            if source is None:
                con.execute(f"DELETE FROM main.results WHERE {where}", old_key)
                con.execute(f"DELETE FROM main.embeddings WHERE {where}", old_key)
            moved += 1
    return moved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--suite", required=True)
    parser.add_argument("--from", dest="old", required=True)
    parser.add_argument("--to", dest="new", required=True)
    parser.add_argument("--source", help="copy the rows from this store instead of moving them")
    args = parser.parse_args(argv)
    suite = get_suite(args.suite)
    datasets = set(suite.datasets) if args.source else None
    try:
        moved = relabel(args.db, suite, args.old, args.new, args.source, datasets)
    except ValueError as exc:
        sys.exit(f"relabel_rows: {exc}")
    print(f"{args.db}: {moved} rows of {args.old} now stored as {args.new}")
    with sqlite3.connect(args.db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main()
