"""The ``device`` parameter: its constraint and its resolution to a torch device."""

import re

import torch
from sklearn.utils._param_validation import StrOptions


class DeviceOptions(StrOptions):
    """Parameter constraint: ``'cpu'``, ``'cuda'``, ``'cuda:N'`` or ``'auto'``.

    A ``StrOptions`` because scikit-learn's parameter validation accepts only
    its own constraint classes; it adds the ``'cuda:N'`` pattern, so that a
    typo such as ``'CPU'`` or an unsupported ``'tpu'`` is refused before
    ``fit`` starts instead of failing inside torch.
    """

    def __init__(self):
        super().__init__({"cpu", "cuda", "auto"})

    def is_satisfied_by(self, val):
        return isinstance(val, str) and (
            val in self.options or re.fullmatch(r"cuda:\d+", val) is not None
        )

    def __str__(self):
        return "one of 'cpu', 'cuda', 'cuda:N' (N a GPU index) or 'auto'"


def resolve_device(device):
    """Turn ``'auto'`` into a concrete device and reject an absent GPU clearly."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was requested but no CUDA GPU is available.")
    index = device.partition(":")[2]
    if index and int(index) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r}: there are only {torch.cuda.device_count()} CUDA GPU(s)."
        )
    return device
