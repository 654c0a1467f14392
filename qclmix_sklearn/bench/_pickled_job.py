"""``python -m qclmix_sklearn.bench._pickled_job JOB.pkl RESULT.pkl``: run one pickled job.

Used where a worker may not fork children (daemonic Dask workers) but a job needs a time limit.
"""

import pickle
import sys

from ._job import execute, exit_with_parent


def main(source, target):
    exit_with_parent()
    with open(source, "rb") as file:
        job = pickle.load(file)
    result = execute(job)
    with open(target, "wb") as file:
        pickle.dump(result, file)


if __name__ == "__main__":
    main(*sys.argv[1:3])
