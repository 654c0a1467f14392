"""When a job is "skipped": a missing optional dependency, never any other error."""

#: Import names of the optional dependencies whose absence skips a model instead of failing it.
OPTIONAL_PACKAGES = frozenset(
    {
        "catboost",
        "dask",
        "distributed",
        "lightgbm",
        "lightning",
        "psutil",
        "pytabkit",
        "pytorch_lightning",
        "ray",
        "skops",
        "tabicl",
        "tabpfn",
        "torch_geometric",
        "torchmetrics",
        "xgboost",
    }
)


class MissingExtraError(ImportError):
    """A model needs an optional dependency that is not installed; its jobs are "skipped".

    Raise it (with the ``pip install`` hint as message) from a model's constructor or ``fit``.
    """


def is_missing_extra(exc):
    """Whether ``exc`` means a missing optional dependency.

    True for :class:`MissingExtraError` and for a ``ModuleNotFoundError`` of one of
    :data:`OPTIONAL_PACKAGES`, also when raised as the cause (``raise ImportError(hint) from
    exc``) of an ImportError. Any other ImportError (e.g. a bug in a model's imports) is a failure.
    """
    seen = set()
    while isinstance(exc, ImportError) and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, MissingExtraError):
            return True
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return exc.name.split(".")[0] in OPTIONAL_PACKAGES
        exc = exc.__cause__
    return False
