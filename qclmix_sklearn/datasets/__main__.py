"""Print the 18 benchmarks and their availability.

Usage: ``python -m qclmix_sklearn.datasets [--data-home DIR]``.
"""

import argparse

from ._table import benchmark_table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m qclmix_sklearn.datasets", description=__doc__)
    parser.add_argument(
        "--data-home", default=None, help="data home (default: $QCLMIX_DATA, else ~/qclmix_data)"
    )
    args = parser.parse_args(argv)
    print(benchmark_table(data_home=args.data_home))


if __name__ == "__main__":
    main()
