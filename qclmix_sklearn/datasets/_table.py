"""Table of the 18 benchmarks and their availability (``python -m qclmix_sklearn.datasets``)."""

from ._data_home import BenchmarkUnavailableError, get_data_home
from ._load import list_benchmarks, load_benchmark
from ._registry import BENCHMARKS_BY_NAME


def benchmark_table(*, data_home=None):
    """Text table: paper's Table 1 next to what loads here, and from where.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Data home (default: ``$QCLMIX_DATA``, else ``~/qclmix_data``).

    Returns
    -------
    table : str
    """
    header = ("name", "task", "paper n x d, k, IR", "loaded n x d, k, IR", "source")
    rows = []
    for name in list_benchmarks():
        benchmark = BENCHMARKS_BY_NAME[name]
        n, d, k, ir = benchmark.paper
        paper = f"{n} x {d}, {k}, {ir:.2f}"
        try:
            bunch = load_benchmark(name, data_home=data_home)
        except BenchmarkUnavailableError:
            loaded, source = "-", "UNAVAILABLE (see load_benchmark's error for what to do)"
        else:
            loaded = (
                f"{bunch.n_samples} x {bunch.n_features}, {bunch.n_classes}, "
                f"{bunch.imbalance_ratio:.2f}"
            )
            source = bunch.source
        rows.append((name, benchmark.task, paper, loaded, source))
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = [f"data home: {get_data_home(data_home)}"]
    for row in [header, *rows]:
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1]
        )
    return "\n".join(lines)
