"""The ``hidden_sizes`` parameter's constraint: a fixed number of positive layer widths."""

from numbers import Integral

from sklearn.utils._param_validation import Options


class LayerSizes(Options):
    """Parameter constraint: a tuple (or list) of ``n`` positive ints.

    An ``Options`` because scikit-learn's parameter validation accepts only
    its own constraint classes (see :class:`~qclmix_sklearn._estimator._device.DeviceOptions`);
    it refuses a wrong count or a non-positive width before ``fit`` builds
    the network.

    Parameters
    ----------
    n : int
        Number of widths.
    """

    def __init__(self, n):
        super().__init__(tuple, set())
        self.n = n

    def is_satisfied_by(self, val):
        return (isinstance(val, (tuple, list)) and len(val) == self.n
                and all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1
                        for v in val))

    def __str__(self):
        return f"a tuple of {self.n} positive ints"
