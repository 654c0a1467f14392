"""Where benchmark files live: the data home, and the error raised when one is missing."""

import os
from pathlib import Path

DATA_HOME_ENV = "QCLMIX_DATA"


class BenchmarkUnavailableError(FileNotFoundError):
    """A benchmark dataset cannot be loaded from any offline source.

    The message says which files were looked for, where to put them, and
    whether ``download=True`` can fetch the data instead.
    """


def get_data_home(data_home=None):
    """Return the benchmark data home as a :class:`pathlib.Path`.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder. When None, the ``QCLMIX_DATA`` environment variable
        is used, else ``~/qclmix_data``. The folder is not created here: it is
        only created when ``download=True`` has something to cache.

    Returns
    -------
    path : pathlib.Path
        The data home (may not exist).
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path("~") / "qclmix_data"
    return Path(data_home).expanduser()
