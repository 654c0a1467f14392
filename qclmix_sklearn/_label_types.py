"""Labels of one kind only: a clear error for y that mixes e.g. numbers and strings."""

from numbers import Number

import numpy as np


def _kind(label):
    if isinstance(label, str):
        return "str"
    if isinstance(label, Number):
        return "number"
    return type(label).__name__


def check_label_types(y):
    """Raise a TypeError naming y when its labels mix kinds (numbers, strings, ...).

    Sorting the classes of such a y fails inside numpy with a bare
    ``'<' not supported between instances of 'int' and 'str'``. Only object
    arrays can mix kinds; others pass at no cost.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Validated labels.
    """
    y = np.asarray(y)
    if y.dtype != object:
        return
    kinds = {_kind(label) for label in y.ravel()}
    if len(kinds) > 1:
        raise TypeError(
            f"y mixes labels of different types ({', '.join(sorted(kinds))}); "
            "use labels of one type, e.g. all strings (y.astype(str)) or all numbers."
        )
