"""The 18 benchmark datasets of the QCL-MixNet paper, loadable offline.

>>> from qclmix_sklearn.datasets import list_benchmarks, load_benchmark
>>> bunch = load_benchmark("ecoli")          # doctest: +SKIP
>>> bunch.data.shape, bunch.task             # doctest: +SKIP
((336, 7), 'imU vs rest')

``python -m qclmix_sklearn.datasets`` prints all 18 with their availability.
"""

from ._data_home import BenchmarkUnavailableError, get_data_home
from ._load import benchmark_available, list_benchmarks, load_benchmark
from ._table import benchmark_table

__all__ = [
    "BenchmarkUnavailableError",
    "benchmark_available",
    "benchmark_table",
    "get_data_home",
    "list_benchmarks",
    "load_benchmark",
]
